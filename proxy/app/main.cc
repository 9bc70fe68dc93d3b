// regiongate: the residency-aware HTTP/2 edge gateway. This file only wires
// the command line to the subcommands (proxy/commands.h).

#include <CLI/CLI.hpp>

#include "proxy/app/commands.h"
#include "proxy/demo/demo.h"

int main(int argc, char** argv) {
  using namespace regiongate;
  CLI::App app{"regiongate: routes each request to a data centre its account's data may live in"};
  app.require_subcommand(1);

  CheckOptions check;
  auto* check_cmd = app.add_subcommand("check", "validate the configuration, prove the policy, "
                                                "print the coverage table");
  check_cmd->add_option("--config", check.config, "configuration file")->required();
  check_cmd->add_flag("!--no-coverage", check.coverage, "do not print the coverage table");
  check_cmd->add_flag("!--no-proof", check.proof, "skip the exhaustive proof");

  ExplainOptions explain;
  auto* explain_cmd =
      app.add_subcommand("explain", "print the decision for one request as a JSON object");
  explain_cmd->add_option("--config", explain.config, "configuration file")->required();
  auto* account = explain_cmd->add_option("--account", explain.account, "account id (directory)");
  explain_cmd->add_option("--ip", explain.ip, "client address (GeoIP)");
  auto* country = explain_cmd->add_option("--country", explain.country, "account country, given");
  account->excludes(country);
  auto* service = explain_cmd->add_option("--service", explain.service, "service name");
  auto* host = explain_cmd->add_option("--host", explain.host, "request host (classifies)");
  explain_cmd->add_option("--path", explain.path, "request :path as a client sends it, made canonical as the gateway does (with --host)")->needs(host);
  service->excludes(host);
  explain_cmd->add_option("--at", explain.at, "instant, RFC 3339 (default: now)");
  explain_cmd->add_option("--down", explain.down, "treat this data centre as down (repeatable)");
  explain_cmd->add_option("--latency", explain.latency,
                          "DC=DURATION: order as `nearest: latency` does, with this measured "
                          "round trip (repeatable)");
  explain_cmd->add_option("--consent", explain.consents,
                          "a consent the request's verified token grants, as the policy names "
                          "it (repeatable; an opt-in service without its own is refused)");

  ServeOptions serve;
  auto* serve_cmd = app.add_subcommand("serve", "run the gateway");
  serve_cmd->add_option("--config", serve.config, "configuration file")->required();
  serve_cmd->add_option("--now", serve.now, "fixed clock, RFC 3339 (tests, rehearsals)");

  PlanOptions plan;
  auto* plan_cmd = app.add_subcommand(
      "plan", "what the policy changes between two instants: who moves where, and when");
  plan_cmd->add_option("--config", plan.config, "configuration file")->required();
  plan_cmd->add_option("--from", plan.from, "the first instant, RFC 3339 (a date is midnight UTC)")
      ->required();
  plan_cmd->add_option("--to", plan.to, "the last instant, RFC 3339")->required();
  plan_cmd->add_flag("--json", plan.json, "one JSON object instead of the table");

  AuditVerifyOptions audit_verify;
  auto* audit_cmd = app.add_subcommand("audit", "the audit log");
  audit_cmd->require_subcommand(1);
  auto* verify_cmd = audit_cmd->add_subcommand(
      "verify", "check the hash chain of audit log files (in the order they were written)");
  verify_cmd->add_option("files", audit_verify.files, "audit log files, oldest first")
      ->required();

  AccountsLoadOptions load;
  auto* accounts_cmd = app.add_subcommand("accounts", "the account directory");
  accounts_cmd->require_subcommand(1);
  auto* load_cmd = accounts_cmd->add_subcommand(
      "load", "load an account directory file (account_id,CC lines) into Redis or Redis Cluster");
  load_cmd->add_option("file", load.file, "account directory file")->required();
  load_cmd->add_option("--redis", load.redis, "redis://IP:PORT (a seed node with --cluster)")
      ->required();
  load_cmd->add_flag("--cluster", load.cluster, "Redis Cluster: route each key to its slot's node");
  load_cmd->add_option("--key-prefix", load.key_prefix, "prefix of every key")->capture_default_str();
  load_cmd->add_option("--batch", load.batch, "SETs pipelined per node per round trip")
      ->capture_default_str();
  load_cmd->add_option("--username", load.username, "AUTH with this user (ACL)");
  load_cmd->add_option("--password-file", load.password_file,
                       "AUTH with the password on this file's first line");
  load_cmd->add_option("--db", load.db, "SELECT this database (standalone only)")->capture_default_str();

  DemoOptions demo;
  demo.config = default_example_config();
  auto* demo_cmd = app.add_subcommand("demo", "the embedded default: the example story, explained");
  demo_cmd->add_option("--config", demo.config, "configuration file")->capture_default_str();
  demo_cmd->add_option("--now", demo.now, "one fixed instant instead of the story's phases");
  demo_cmd->add_flag("--exit-after-tour", demo.exit_after_tour, "do not keep serving");

  CLI11_PARSE(app, argc, argv);
  if (check_cmd->parsed()) return run_check(check);
  if (explain_cmd->parsed()) return run_explain(explain);
  if (demo_cmd->parsed()) return run_demo(demo);
  if (serve_cmd->parsed()) return run_serve(serve);
  if (plan_cmd->parsed()) return run_plan(plan);
  if (verify_cmd->parsed()) return run_audit_verify(audit_verify);
  if (load_cmd->parsed()) return run_accounts_load(load);
  return 2;
}
