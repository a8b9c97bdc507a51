// JsonLine builds one JSON object as text, member by member, for the output
// paths that print millions of rows (`dump records`): no JSON tree is built,
// and once its buffer has grown to the longest row it allocates nothing.
//
// Thread safety: one thread at a time.

#ifndef TERRA_TOOLS_JSON_LINE_H_
#define TERRA_TOOLS_JSON_LINE_H_

#include <boost/json/serializer.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace terra::tools {

class JsonLine {
 public:
  // Starts a new, empty object, dropping the previous one. A new JsonLine
  // starts empty too.
  void Clear();

  // Each Add appends one member. `name` and string values are escaped as
  // JSON requires. The caller keeps names unique.
  void AddString(std::string_view name, std::string_view value);
  void AddInteger(std::string_view name, int64_t value);
  void AddUnsigned(std::string_view name, uint64_t value);

  // Appends a member whose value is `raw_json` copied as it is.
  // REQUIRES: `raw_json` is one valid JSON value.
  void AddRaw(std::string_view name, std::string_view raw_json);

  // Returns the object's text, `{...}`, valid until the next call.
  std::string_view Finish();

 private:
  void AddName(std::string_view name);
  void AppendString(std::string_view value);

  std::string text_ = "{";
  boost::json::serializer serializer_;
};

}  // namespace terra::tools

#endif  // TERRA_TOOLS_JSON_LINE_H_
