// TLS is always verified: a certificate the client does not trust, or one issued for another
// host, ends the transfer; the same server with its certificate trusted answers.
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <marcpipe/coro/sync_wait.hpp>
#include <marcpipe/net/classify.hpp>
#include <marcpipe/net/event_loop.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "catch.hpp"
#include "support/child.hpp"
#include "support/serving.hpp"

using namespace marcpipe::net;
using namespace std::chrono_literals;

namespace {

// A certificate made for this test run (no key is kept anywhere): self-signed for 127.0.0.1, or
// issued for 127.0.0.1 by a private CA, as a proxy that inspects TLS issues its certificates.
struct test_certificate {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;

    // Self-signed for 127.0.0.1 (and a CA, so that trusting it is enough).
    test_certificate() { make("127.0.0.1", nullptr, true); }
    // A private CA's own certificate, or one for 127.0.0.1 that `issuer` signed.
    enum class kind { ca };
    explicit test_certificate(kind) { make("marcpipe test CA", nullptr, true); }
    explicit test_certificate(test_certificate const* issuer) { make("127.0.0.1", issuer, false); }
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
    void make(char const* common_name, test_certificate const* issuer, bool ca) {
        key = EVP_EC_gen("P-256");
        cert = X509_new();
        if (!key || !cert) throw std::runtime_error("cannot make a test key");
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), issuer ? 2 : 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), -60);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_set_pubkey(cert, key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<unsigned char const*>(common_name), -1, -1, 0);
        X509* signer = issuer ? issuer->cert : cert;
        X509_set_issuer_name(cert, X509_get_subject_name(signer));
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, signer, cert, nullptr, nullptr, 0);
        if (std::string(common_name) == "127.0.0.1") add(ctx, NID_subject_alt_name, "IP:127.0.0.1");
        add(ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
        if (X509_sign(cert, issuer ? issuer->key : key, EVP_sha256()) == 0)
            throw std::runtime_error("cannot sign the test certificate");
    }

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
        serving_.emplace(server_);
    }
    int port() const { return serving_->port(); }

private:
    httplib::SSLServer server_;
    std::optional<marcpipe::testing::serving> serving_;
};

// A TLS server whose certificate is `served`, and `trusted` written as a CA file of the test's own.
struct tls_site {
    tls_site(test_certificate const& served, test_certificate const& trusted,
             std::string const& name)
        : server{served}, dir{name}, pem{(dir / "ca.pem").string()} {
        trusted.write_pem(pem);
    }
    // The server's one page, by the name `host`.
    std::string url(std::string const& host = "127.0.0.1") const {
        return "https://" + host + ":" + std::to_string(server.port()) + "/hello";
    }

    tls_server server;
    marcpipe::testing::scratch_dir dir;
    std::string pem;
};

result fetch(loop_options options, std::string const& url) {
    event_loop loop(std::move(options));
    return marcpipe::coro::sync_wait(loop.get(url), [&] { loop.run_once(100ms); });
}

// The same, trusting only the CA certificates in `ca_file`.
result fetch_trusting(std::string const& ca_file, std::string const& url) {
    loop_options o;
    o.ca_file = ca_file;
    return fetch(std::move(o), url);
}

// A certificate that could not be verified: no answer, and the run stops.
void check_unverified(result const& r) {
    REQUIRE_FALSE(r);
    CHECK(r.error().code == CURLE_PEER_FAILED_VERIFICATION);
    CHECK(classify(r) == outcome_class::fatal);
}

// The test server's one page.
void check_hello(result const& r) {
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "<hello/>");
}

}  // namespace

TEST_CASE("TLS certificates are always verified", "[net]") {
    test_certificate certificate;
    tls_site site{certificate, certificate, "tls-ca"};
    std::string const url = site.url();

    SECTION("a certificate nobody vouches for is refused, and that stops the run") {
        check_unverified(fetch(loop_options{}, url));
    }
    SECTION("the same certificate, trusted, is accepted") {
        check_hello(fetch_trusting(site.pem, url));
    }
    SECTION("a trusted certificate for another host name is refused") {
        result r = fetch_trusting(site.pem, site.url("localhost"));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == CURLE_PEER_FAILED_VERIFICATION);
    }
}

TEST_CASE("a server certificate issued by a private CA (a proxy that inspects TLS) is trusted only "
          "with that CA's certificate as the CA file (--cacert)", "[net]") {
    test_certificate ca(test_certificate::kind::ca);
    test_certificate issued(&ca);
    tls_site site{issued, ca, "tls-private-ca"};
    std::string const url = site.url();

    SECTION("without it, verification fails, and that is fatal, not an outage to wait out") {
        result r = fetch(loop_options{}, url);
        check_unverified(r);
        CHECK_FALSE(examine(r).outage);
    }
    SECTION("with it, the answer comes") { check_hello(fetch_trusting(site.pem, url)); }
    SECTION("the programs take it as --cacert") {
        auto get = [&](std::vector<std::string> const& extra) {
            auto const r = marcpipe::testing::run(MARCPIPE_HTTP_GET_MANY, extra, url + "\n");
            auto const got = marcpipe::testing::lines(r.out);
            return std::pair{r.status, got.empty() ? std::string{} : got.front()};
        };
        INFO("http-get-many: " MARCPIPE_HTTP_GET_MANY " (built with the test by `meson test`)");
        REQUIRE(::access(MARCPIPE_HTTP_GET_MANY, X_OK) == 0);
        auto [without, without_line] = get({});
        CHECK(without == 3);  // fatal: stopped, nothing fetched
        auto [with, with_line] = get({"--cacert", site.pem});
        CHECK(with == 0);
        CHECK(with_line == "200 8 " + url);
        auto [missing, missing_line] = get({"--cacert", site.pem + ".missing"});
        CHECK(missing == 2);
    }
}
