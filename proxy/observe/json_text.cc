#include "proxy/observe/json_text.h"

#include "util/json.h"

namespace regiongate {
namespace {

void write(std::string& out, const nlohmann::ordered_json& v) {
  switch (v.type()) {
    case nlohmann::ordered_json::value_t::string:
      append_json_string(out, v.get_ref<const std::string&>());
      return;
    case nlohmann::ordered_json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, item] : v.items()) {
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, key);
        out.push_back(':');
        write(out, item);
      }
      out.push_back('}');
      return;
    }
    case nlohmann::ordered_json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v) {
        if (!first) out.push_back(',');
        first = false;
        write(out, item);
      }
      out.push_back(']');
      return;
    }
    default:
      // Numbers, booleans and null hold no bytes of anyone's: nlohmann's own
      // text for them is exact.
      out.append(v.dump());
  }
}

}  // namespace

std::string json_text(const nlohmann::ordered_json& value) {
  std::string out;
  write(out, value);
  return out;
}

}  // namespace regiongate
