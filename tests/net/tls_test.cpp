// TLS is always verified: a certificate the client does not trust, or one issued for another
// host, ends the transfer; the same server with its certificate trusted answers.
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <marcpipe/coro/sync_wait.hpp>
#include <marcpipe/net/event_loop.hpp>
#include <marcpipe/net/classify.hpp>
#include <stdexcept>
#include <string>
#include <thread>

#include "catch.hpp"

using namespace marcpipe::net;
using namespace std::chrono_literals;

namespace {

// A self-signed certificate for 127.0.0.1, made for this test run (no key is kept anywhere).
struct test_certificate {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;

    test_certificate() {
        key = EVP_EC_gen("P-256");
        cert = X509_new();
        if (!key || !cert) throw std::runtime_error("cannot make a test key");
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), -60);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_set_pubkey(cert, key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<unsigned char const*>("127.0.0.1"), -1, -1, 0);
        X509_set_issuer_name(cert, name);
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
        add(ctx, NID_subject_alt_name, "IP:127.0.0.1");
        add(ctx, NID_basic_constraints, "critical,CA:TRUE");
        if (X509_sign(cert, key, EVP_sha256()) == 0)
            throw std::runtime_error("cannot sign the test certificate");
    }
    test_certificate(test_certificate const&) = delete;
    test_certificate& operator=(test_certificate const&) = delete;
    ~test_certificate() {
        X509_free(cert);
        EVP_PKEY_free(key);
    }

    void write_pem(std::string const& path) const {
        FILE* f = std::fopen(path.c_str(), "w");
        if (!f || PEM_write_X509(f, cert) != 1) throw std::runtime_error("cannot write " + path);
        std::fclose(f);
    }

private:
    void add(X509V3_CTX& ctx, int nid, char const* value) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
        if (!ext) throw std::runtime_error("cannot make a certificate extension");
        X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
    }
};

class tls_server {
public:
    explicit tls_server(test_certificate const& c) : server_(c.cert, c.key) {
        server_.Get("/hello", [](httplib::Request const&, httplib::Response& res) {
            res.set_content("<hello/>", "application/xml");
        });
        port_ = server_.bind_to_any_port("127.0.0.1");
        if (port_ <= 0) throw std::runtime_error("cannot bind a loopback port for the TLS server");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        while (!server_.is_running()) std::this_thread::sleep_for(1ms);
    }
    ~tls_server() {
        server_.stop();
        thread_.join();
    }
    int port() const { return port_; }

private:
    httplib::SSLServer server_;
    int port_ = 0;
    std::thread thread_;
};

result fetch(loop_options options, std::string const& url) {
    event_loop loop(std::move(options));
    return marcpipe::coro::sync_wait(loop.get(url), [&] { loop.run_once(100ms); });
}

}  // namespace

TEST_CASE("TLS certificates are always verified", "[net]") {
    test_certificate certificate;
    tls_server server(certificate);
    std::string pem = "tls-test-ca." + std::to_string(::getpid()) + ".pem";
    certificate.write_pem(pem);
    std::string const url = "https://127.0.0.1:" + std::to_string(server.port()) + "/hello";

    SECTION("a certificate nobody vouches for is refused, and that stops the run") {
        result r = fetch(loop_options{}, url);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == CURLE_PEER_FAILED_VERIFICATION);
        CHECK(classify(r) == outcome_class::fatal);
    }
    SECTION("the same certificate, trusted, is accepted") {
        loop_options o;
        o.ca_file = pem;
        result r = fetch(o, url);
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK(r->body == "<hello/>");
    }
    SECTION("a trusted certificate for another host name is refused") {
        loop_options o;
        o.ca_file = pem;
        result r = fetch(o, "https://localhost:" + std::to_string(server.port()) + "/hello");
        REQUIRE_FALSE(r);
        CHECK(r.error().code == CURLE_PEER_FAILED_VERIFICATION);
    }
    std::remove(pem.c_str());
}
