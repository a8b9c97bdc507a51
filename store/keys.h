// Key encodings of the store's column families. Composite keys join their
// components with a NUL byte, so a prefix ending in NUL selects exactly one
// connection, or one connection and type, in key order. Components must not
// be empty and must not contain NUL; IsValidKeyComponent checks that.

#ifndef TERRA_STORE_KEYS_H_
#define TERRA_STORE_KEYS_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace terra::store {

// Returns true if `component` can be part of a composite key: non-empty, no
// NUL byte, and at most 1024 bytes.
bool IsValidKeyComponent(std::string_view component);

// `records` key: connection / type / natural id.
std::string RecordKey(std::string_view connection, std::string_view type,
                      std::string_view natural_id);

// Prefix of every `records` key of one connection, or of one connection and
// type when `type` is not empty.
std::string RecordPrefix(std::string_view connection,
                         std::string_view type = {});

// Components of a `records` key; views into the key passed to the parser.
struct RecordKeyParts {
  std::string_view connection;
  std::string_view type;
  std::string_view natural_id;
};

// Splits a `records` key. Returns false if it does not have three components.
bool ParseRecordKey(std::string_view key, RecordKeyParts* parts);

// `sessions_by_date` key: connection / type / date / summary id.
std::string SessionIndexKey(std::string_view connection, std::string_view type,
                            std::string_view date, std::string_view summary_id);

// Prefix of the `sessions_by_date` keys of one connection and type, optionally
// narrowed to one date.
std::string SessionIndexPrefix(std::string_view connection,
                               std::string_view type,
                               std::string_view date = {});

// Components of a `sessions_by_date` key; views into the parsed key.
struct SessionIndexKeyParts {
  std::string_view connection;
  std::string_view type;
  std::string_view date;
  std::string_view summary_id;
};

// Splits a `sessions_by_date` key. Returns false if it does not have four
// components.
bool ParseSessionIndexKey(std::string_view key, SessionIndexKeyParts* parts);

// Eight big-endian bytes, so that keys sort in numeric order (`deliveries`,
// `jobs`).
std::string EncodeSequenceKey(uint64_t sequence);

// Reads a key written by EncodeSequenceKey. Returns false unless `key` is
// exactly eight bytes.
bool DecodeSequenceKey(std::string_view key, uint64_t* sequence);

// Returns true if `date` has the form YYYY-MM-DD and names a day of the
// proleptic Gregorian calendar from year 0001 on.
bool IsCalendarDate(std::string_view date);

}  // namespace terra::store

#endif  // TERRA_STORE_KEYS_H_
