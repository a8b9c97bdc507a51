// SkippedEntries: the summary line that dump prints after skipping malformed
// entries.

#include "tools/skipped_entries.h"

#include <boost/test/unit_test.hpp>
#include <sstream>

namespace terra::tools {
namespace {

BOOST_AUTO_TEST_SUITE(skipped_entries)

BOOST_AUTO_TEST_CASE(nothing_skipped_prints_nothing) {
  SkippedEntries skipped;
  std::ostringstream err;
  skipped.PrintSummary(err);
  BOOST_TEST(err.str() == "");
}

BOOST_AUTO_TEST_CASE(summary_counts_in_plural) {
  SkippedEntries skipped;
  skipped.Add("delivery", "bad key");
  skipped.Add("delivery", "bad key");
  skipped.Add("record", "bad value");
  skipped.Add("job", "bad json");
  skipped.Add("job", "bad json");
  std::ostringstream err;

  skipped.PrintSummary(err);

  BOOST_TEST(err.str() ==
             "terra-syncctl dump: skipped 5 malformed entries: 2 deliveries "
             "(bad key), 2 jobs (bad json), 1 record (bad value)\n");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace terra::tools
