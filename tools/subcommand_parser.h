// Command-line parsing shared by the terra-syncctl subcommands, so that each
// prints its help and reports a usage error the same way.

#ifndef TERRA_TOOLS_SUBCOMMAND_PARSER_H_
#define TERRA_TOOLS_SUBCOMMAND_PARSER_H_

#include <boost/program_options.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace terra::tools {

// A subcommand's options: `visible` appear in --help, `hidden` take the
// positional arguments named in `positional`.
struct SubcommandOptions {
  std::string_view name;  // for example "dump"
  const boost::program_options::options_description* visible;
  const boost::program_options::options_description* hidden = nullptr;
  const boost::program_options::positional_options_description* positional =
      nullptr;
};

// Parses `args` into `values` and runs the options' notifiers. Prints the
// visible options for --help and returns kExitOk; prints
// "terra-syncctl NAME: <error>; run terra-syncctl NAME --help for usage" for
// an invalid command line and returns kExitUsage; returns nullopt when the
// subcommand should run.
std::optional<int> ParseSubcommand(
    const SubcommandOptions& options, const std::vector<std::string>& args,
    boost::program_options::variables_map* values, std::ostream& out,
    std::ostream& err);

}  // namespace terra::tools

#endif  // TERRA_TOOLS_SUBCOMMAND_PARSER_H_
