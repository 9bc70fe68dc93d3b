// `regiongate demo`: the embedded default. Starts small data centres on
// loopback (one per data centre of examples/, each answering with its name),
// runs the gateway in front of them at each phase of the story, sends real
// HTTP/2 requests (curl) from "phones" in several countries, and shows where
// each one lands. Then it keeps serving for you to try.

#include <signal.h>

#include <cstdio>
#include <iomanip>
#include <iostream>
#include <regex>

#include "policy/proof.h"
#include "proxy/demo/demo.h"
#include "proxy/demo/demo_origin.h"
#include "proxy/runtime/gateway.h"

namespace regiongate {
namespace {

struct TourStop {
  const char* who;
  const char* account;   // x-account-id, or "" for none
  const char* phone_ip;  // where the phone is: the demo GeoIP maps 127.N/16 to a country
  const char* url_path;  // on api.example.com
};

constexpr TourStop kTour[] = {
    {"Asha (India), at home", "in-asha", "127.1.0.10", "/shop/cart"},
    {"Asha (India), at home", "in-asha", "127.1.0.10", "/cloud/photos"},
    // Shop data named as cloud data: decided (and forwarded) as the shop
    // path it is; what servers read two ways is refused.
    {"Asha (India), a path trick", "in-asha", "127.1.0.10", "/cloud/../shop/cart"},
    {"Asha (India), an encoded slash", "in-asha", "127.1.0.10", "/cloud%2f..%2fshop/cart"},
    {"Ravi (India), roaming in the US", "in-ravi", "127.4.0.10", "/cloud/photos"},
    {"Li (China)", "cn-li", "127.2.0.10", "/messaging/inbox"},
    {"Joao (Brazil)", "br-joao", "127.5.0.10", "/account/me"},
    {"Anna (Germany)", "de-anna", "127.6.0.10", "/cloud/photos"},
    {"no account, phone in Japan", "", "127.7.0.10", "/shop/cart"},
    {"no account, unknown place", "", "127.0.0.1", "/shop/cart"},
};

constexpr const char* kPhases[] = {"2014-10-01T00:00:00Z", "2014-11-15T00:00:00Z",
                                   "2015-01-15T00:00:00Z", "2015-07-01T00:00:00Z"};

std::string curl_command(int port, const TourStop& stop) {
  // --path-as-is: curl would otherwise remove the dot segments itself.
  std::string cmd = "curl -s --http2-prior-knowledge --path-as-is --interface " +
                    std::string(stop.phone_ip);
  if (*stop.account) cmd += " -H 'x-account-id: " + std::string(stop.account) + "'";
  cmd += " -H 'host: api.example.com' http://127.0.0.1:" + std::to_string(port) + stop.url_path;
  return cmd;
}

// Runs curl (all arguments are the demo's own constants) and summarises the answer.
std::string ask(int port, const TourStop& stop) {
  std::string cmd = curl_command(port, stop) + " -i --max-time 5 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return "(could not run curl)";
  std::string out;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  pclose(p);
  std::smatch m;
  if (std::regex_search(out, m, std::regex(R"re("datacenter":"([^"]+)")re"))) {
    return "-> " + m[1].str();
  }
  if (std::regex_search(out, m, std::regex(R"re(HTTP/2 (\d+)[\s\S]*x-regiongate-reason: (\S+))re"))) {
    return "   refused " + m[1].str() + " " + m[2].str();
  }
  return "   (no answer: " + out.substr(0, 80) + ")";
}

}  // namespace

std::string default_example_config() { return REGIONGATE_SOURCE_DIR "/examples/regiongate.yaml"; }

int run_demo(const DemoOptions& options) {
  GatewaySettings settings;
  Diagnostics diags;
  settings.snapshot = load_snapshot(options.config, diags, [&](const YAML::Node& node, YamlContext& ctx) {
    settings.server = read_server_config(node, ctx);
  });
  if (!settings.snapshot) {
    std::cerr << diags.format_all();
    return 1;
  }
  if (settings.server.startup.listeners.empty() || settings.server.startup.listeners[0].tls) {
    std::cerr << "demo: the configuration needs a cleartext listener first in server.listen\n";
    return 1;
  }
  settings.server.startup.access_log.file = "off";
  signal(SIGPIPE, SIG_IGN);

  std::cout << "regiongate demo: " << options.config << "\n"
            << prove_policy(settings.snapshot->policy, settings.snapshot->datacenters,
                            settings.snapshot->table).summary()
            << "\n\nStarting the demo data centres on loopback: ";
  for (const DataCenter& dc : settings.snapshot->datacenters.all) {
    std::cout << dc.id << " " << dc.endpoints[0].authority() << "  ";
  }
  std::cout << "\n";
  DemoOrigins origins;
  std::string error;
  if (!origins.start(settings.snapshot->datacenters, &error)) {
    std::cerr << "demo: " << error << '\n';
    return 1;
  }

  std::vector<std::string> phases(std::begin(kPhases), std::end(kPhases));
  if (options.now) phases = {*options.now};
  for (const std::string& at : phases) {
    auto instant = parse_rfc3339(at);
    if (!instant) {
      std::cerr << "demo: --now: not an RFC 3339 date-time: '" << at << "'\n";
      return 2;
    }
    // A gateway per phase, each with its own fixed clock.
    GatewaySettings phase = settings;
    phase.clock = Clock::fixed(*instant);
    Gateway gateway(std::move(phase));
    if (!gateway.start(&error)) {
      std::cerr << "demo: " << error << '\n';
      return 1;
    }
    int port = gateway.listening()[0].port;
    std::cout << "\n== the gateway at " << at << "\n";
    for (const TourStop& stop : kTour) {
      std::cout << "  " << std::left << std::setw(34) << stop.who << std::setw(26) << stop.url_path
                << ask(port, stop) << '\n';
    }
  }
  std::cout << "\nTry it yourself while the gateway runs (at the last instant above):\n";
  // The last phase's clock goes on (or the --now given).
  GatewaySettings last = settings;
  last.clock = Clock::fixed(*parse_rfc3339(phases.back()));
  Gateway gateway(std::move(last));
  if (!gateway.start(&error)) {
    std::cerr << "demo: " << error << '\n';
    return 1;
  }
  int port = gateway.listening()[0].port;
  std::cout << "  " << curl_command(port, kTour[4]) << "\n  " << curl_command(port, kTour[5])
            << "\n  regiongate explain --config " << options.config
            << " --account in-ravi --ip 127.4.0.10 --service cloud --at 2015-01-15T00:00:00Z\n";
  if (options.exit_after_tour) return 0;
  std::cout << "Press Ctrl-C to stop.\n" << std::flush;
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  int sig = 0;
  sigwait(&signals, &sig);
  return 0;
}

}  // namespace regiongate
