// tsunagu features — argument parsing and formatting only; the work is tsunagu::features.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/progress.hpp"
#include "tsunagu/features/descriptors.hpp"
#include "tsunagu/structure/formats.hpp"

namespace tsunagu::cli {
namespace {

struct FeaturesArgs {
  std::vector<std::string> files;
  std::string format = "auto", kinds = "composition", absorber, output, spec_in, spec_out, properties;
  long site = -1;
  double rdf_cutoff = 8.0, rdf_step = 0.1, rdf_sigma = 0.1, site_cutoff = 6.0;
  unsigned threads = 0;
};

// CSV cell: quoted only when it must be (paths with commas or quotes).
std::string cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

void run_features(const FeaturesArgs& a) {
  structure::ReadOptions ro;
  ro.format = structure::parse_format(a.format);
  std::vector<structure::Crystal> cs;
  cs.reserve(a.files.size());
  for (const auto& f : a.files) cs.push_back(structure::read_structure(f, ro));

  features::DescriptorSpec spec;
  if (!a.spec_in.empty()) {
    spec = features::DescriptorSpec::from_json(core::read_json(a.spec_in));
  } else {
    spec.kinds = features::parse_descriptor_kinds(a.kinds);
    spec.properties = split_list(a.properties);
    spec.rdf_cutoff = a.rdf_cutoff;
    spec.rdf_step = a.rdf_step;
    spec.rdf_sigma = a.rdf_sigma;
    spec.site_cutoff = a.site_cutoff;
  }
  spec.validate();
  const bool need_site =
      features::needs_site(spec.kinds);
  std::vector<std::size_t> sites;
  if (need_site) {
    if (a.site >= 0 && !a.absorber.empty()) throw InvalidArgument("--site and --absorber: give one of them");
    for (const auto& c : cs) {
      if (a.site >= 0) {
        if (static_cast<std::size_t>(a.site) >= c.n_sites())
          throw InvalidArgument(c.source + ": --site " + std::to_string(a.site) + " out of range (" +
                                std::to_string(c.n_sites()) + " sites, 0-based)");
        sites.push_back(static_cast<std::size_t>(a.site));
      } else if (!a.absorber.empty()) {
        const auto idx = c.select_element(a.absorber);
        if (idx.empty()) throw InvalidArgument(c.source + ": no " + a.absorber + " atom (--absorber)");
        sites.push_back(idx.front());
      } else {
        throw InvalidArgument("--kind site needs the absorbing atom: --site I (0-based) or --absorber ELEMENT");
      }
    }
  } else if (a.site >= 0 || !a.absorber.empty()) {
    throw InvalidArgument("--site/--absorber only apply to --kind site");
  }
  if (!spec.fitted()) spec = features::fit_spec(spec, cs, sites);
  core::Progress bar("features", cs.size());
  const Eigen::MatrixXd X = features::describe_many(spec, cs, sites, a.threads, &bar);
  bar.finish();

  std::ostringstream out;
  out.precision(10);
  out << "structure";
  for (const auto& n : spec.names()) out << "," << cell(n);
  out << "\n";
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    out << cell(a.files[static_cast<std::size_t>(i)]);
    for (Eigen::Index j = 0; j < X.cols(); ++j) out << "," << X(i, j);
    out << "\n";
  }
  if (a.output.empty()) {
    std::cout << out.str();
  } else {
    core::write_file_atomic(a.output, out.str());
    note("wrote " + a.output + " (" + std::to_string(X.rows()) + " structures x " + std::to_string(X.cols()) +
         " descriptors)");
  }
  if (!a.spec_out.empty()) {
    core::write_json(a.spec_out, spec.to_json());
    note("wrote " + a.spec_out + " (descriptor specification; reuse with --spec)");
  }
}

}  // namespace

void register_features(CLI::App& app) {
  static FeaturesArgs a;
  auto* f = app.add_subcommand("features", "structure descriptors (composition, PRDF, Coulomb, absorber site) as CSV");
  f->add_option("structures", a.files, "structure files (CIF, POSCAR, pymatgen/MP JSON, XYZ)")
      ->required()
      ->check(CLI::ExistingFile);
  f->add_option("--kind", a.kinds, "comma-separated: composition,prdf,coulomb,site,acsf")->capture_default_str();
  f->add_option("--site", a.site, "absorbing atom for --kind site or acsf (0-based index in every file)");
  f->add_option("--absorber", a.absorber, "absorbing element for --kind site or acsf (its first atom in every file)");
  f->add_option("--format", a.format, "auto | cif | poscar | json | xyz")->capture_default_str();
  f->add_option("--properties", a.properties, "element properties for composition (default: all; see docs)");
  f->add_option("--rdf-cutoff", a.rdf_cutoff, "PRDF range (A)")->capture_default_str();
  f->add_option("--rdf-step", a.rdf_step, "PRDF grid spacing (A)")->capture_default_str();
  f->add_option("--rdf-sigma", a.rdf_sigma, "PRDF Gaussian smearing (A)")->capture_default_str();
  f->add_option("--site-cutoff", a.site_cutoff, "neighbourhood of the absorbing atom (A)")->capture_default_str();
  f->add_option("--spec", a.spec_in, "use this descriptor specification (JSON from --save-spec) instead of the options")
      ->check(CLI::ExistingFile);
  f->add_option("--save-spec", a.spec_out, "write the fitted descriptor specification (JSON)");
  f->add_option("--threads", a.threads, "threads (0 = all cores)")->check(non_negative())->capture_default_str();
  f->add_option("-o,--output", a.output, "CSV to write (default: stdout)");
  f->callback([] { run_features(a); });
}

}  // namespace tsunagu::cli
