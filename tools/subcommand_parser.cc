#include "tools/subcommand_parser.h"

#include "tools/exit_codes.h"

namespace terra::tools {

namespace po = boost::program_options;

std::optional<int> ParseSubcommand(const SubcommandOptions& options,
                                   const std::vector<std::string>& args,
                                   po::variables_map* values, std::ostream& out,
                                   std::ostream& err) {
  po::options_description all;
  all.add(*options.visible);
  if (options.hidden != nullptr) {
    all.add(*options.hidden);
  }
  po::positional_options_description none;
  const po::positional_options_description& positional =
      options.positional != nullptr ? *options.positional : none;

  try {
    po::store(
        po::command_line_parser(args).options(all).positional(positional).run(),
        *values);
    if (values->count("help") > 0) {
      out << *options.visible << "\n";
      return kExitOk;
    }
    po::notify(*values);
  } catch (const po::error& error) {
    err << "terra-syncctl " << options.name << ": " << error.what()
        << "; run terra-syncctl " << options.name << " --help for usage\n";
    return kExitUsage;
  }
  return std::nullopt;
}

}  // namespace terra::tools
