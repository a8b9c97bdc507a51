#include "daemon/scopes.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace terra::daemon {
namespace {

// Data types that a "<type>:<access>" scope can name.
constexpr std::string_view kScopedTypes[] = {
    "activity", "sleep", "daily", "body", "nutrition", "menstruation", "athlete"};

std::string Lowercase(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return lower;
}

// Collects the data types named by "<type>:<access>" tokens of `scopes`.
std::set<std::string> NamedTypes(std::string_view scopes) {
  std::set<std::string> named;
  size_t start = 0;
  while (start <= scopes.size()) {
    size_t end = scopes.find_first_of(", \t", start);
    if (end == std::string_view::npos) {
      end = scopes.size();
    }
    std::string token = Lowercase(scopes.substr(start, end - start));
    size_t colon = token.find(':');
    if (colon != std::string::npos) {
      std::string type = token.substr(0, colon);
      if (std::find(std::begin(kScopedTypes), std::end(kScopedTypes), type) !=
          std::end(kScopedTypes)) {
        named.insert(type);
      }
    }
    start = end + 1;
  }
  return named;
}

}  // namespace

std::vector<std::string> TypesAllowedByScopes(
    const std::vector<std::string>& enabled, std::string_view scopes) {
  std::set<std::string> named = NamedTypes(scopes);
  if (named.empty()) {
    return enabled;
  }
  std::vector<std::string> allowed;
  for (const std::string& type : enabled) {
    if (named.count(type) > 0) {
      allowed.push_back(type);
    }
  }
  return allowed;
}

}  // namespace terra::daemon
