// alma_options: the options of every tool that asks Alma — where Alma is, the API key, the
// pace, how long an outage is waited out, whom TLS trusts — and the HTTP client they make. The
// tools share it, so that the same option means the same in each; it is the tools' own command-line
// code, not part of the library.
//
//   marcpipe::tools::alma_options alma;
//   alma.add_to(app);
//   ... app.parse(argc, argv) ...
//   std::string const key = alma.api_key();                 // throws alma::config_error
//   net::http_client http{alma.http_options(key)};
//   alma::client client{http, alma.base()};                   // throws alma::config_error
#pragma once

#include <marcpipe/alma/client.hpp>
#include <marcpipe/alma/http_policy.hpp>
#include <marcpipe/net/ca_bundle.hpp>
#include <marcpipe/net/duration.hpp>
#include <marcpipe/net/http_client.hpp>

#include <CLI/CLI.hpp>

#include <cstddef>
#include <optional>
#include <string>

#include "option_checks.hpp"

namespace marcpipe::tools {

struct alma_options {
    std::string base_url;
    std::string region;
    std::optional<std::string> api_key_file;
    double rate = 25;                // Alma allows 25 calls a second per institution
    std::size_t concurrency = net::default_max_in_flight;  // the library's default
    int max_attempts = 10;
    std::string patience = "10m";
    std::string cacert;

    void add_to(CLI::App& app) {
        auto* base = app.add_option("--base-url", base_url, "Alma API base URL (https://..., or http:// on loopback)");
        app.add_option("--region", region, "Alma region: " + alma::region_names())->excludes(base);
        app.add_option("--api-key-file", api_key_file, "read the API key from this file instead of ALMA_API_KEY");
        app.add_option("--rate", rate, "requests per second (Alma allows 25 per institution)")->check(rate_range());
        app.add_option("--concurrency", concurrency, "requests in flight at once")->check(CLI::Range(1, 1024));
        app.add_option("--max-attempts", max_attempts, "tries per request before it is reported as failed")
            ->check(CLI::Range(1, 100));
        app.add_option("--patience", patience,
                       "how long to go on while no call succeeds (network or Alma down): 90s, 10m, 1h or seconds; "
                       "then exit 3, --resume finishes")
            ->type_name("DURATION")
            ->check([](std::string const& v) { return net::check_patience(v); });
        app.add_option("--cacert", cacert,
                       "CA bundle (PEM) to verify TLS with, e.g. the certificate of a proxy that inspects TLS")
            ->check(CLI::ExistingFile);
    }

    // After parsing. All three throw alma::config_error, before any call.
    std::string base() const { return alma::locate(region, base_url); }
    std::string api_key() const { return alma::load_api_key(api_key_file); }

    net::client_options http_options(std::string const& key) const {
        if (!cacert.empty())
            if (auto unfit = net::check_ca_bundle(cacert)) throw alma::config_error(*unfit);
        net::client_options o = alma::http_options(key, alma::api_key_origin(api_key_file));
        o.rate = rate;
        o.loop.max_in_flight = concurrency;
        o.retry.max_attempts = max_attempts;
        o.retry.patience = *net::parse_duration(patience);  // checked when parsed
        o.loop.ca_file = cacert;
        return o;
    }
};

}  // namespace marcpipe::tools
