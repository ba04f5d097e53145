#pragma once
/// Molecular descriptors from SMILES (RDKit): named physico-chemical counts (H-bond donors/acceptors, TPSA, Crippen
/// logP, rotatable bonds, ethylene-glycol units, charged groups, alkyl chain length, ...), user-named SMARTS counts
/// and Morgan fingerprint bits, for one molecule, many molecules in parallel, a CSV table with user columns kept,
/// and composition-weighted mixtures. Every column is defined in docs/bio.md ("Molecular descriptors").
///
/// RDKit is private to the library: this header uses Eigen, nlohmann::json and tsunagu::core only.
/// Molecules are described after renumbering their atoms into RDKit's canonical order, so two spellings of one
/// molecule give bitwise-identical rows. RDKit's own log output is switched off while these functions run (and
/// restored afterwards), so a bad SMILES gives one line from tsunagu, never RDKit's stderr chatter.
#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json_fwd.hpp>

#include "tsunagu/core/progress.hpp"
#include "tsunagu/core/table.hpp"

namespace tsunagu::bio {

/// A user-named substructure: column "smarts_<name>" = number of unique matches of `smarts` (RDKit SubstructMatch,
/// uniquify = true, chirality ignored, no cap on the number of matches).
struct SmartsPattern {
  std::string name;    ///< [A-Za-z0-9_]+, unique among the options' patterns
  std::string smarts;  ///< any SMARTS RDKit compiles
  bool operator==(const SmartsPattern&) const = default;
};

/// "amide=C(=O)N" -> {"amide", "C(=O)N"} (split at the first '='; the SMARTS is compiled here). InvalidArgument
/// naming the argument: "--smarts 'amide': expected NAME=SMARTS", "... SMARTS 'C(=O' does not compile", bad name.
SmartsPattern parse_smarts_arg(std::string_view name_eq_pattern);

/// The physico-chemical columns, in column order (when DescriptorOptions::physchem).
const std::vector<std::string>& physchem_names();

struct DescriptorOptions {
  bool physchem = true;             ///< the named physico-chemical columns (physchem_names())
  int morgan_radius = 2;            ///< 0..10
  int morgan_bits = 0;              ///< 0 = no fingerprint columns; else a power of two in 64..4096: morgan_0..
  std::vector<SmartsPattern> smarts;  ///< user SMARTS counts, columns smarts_<name> in this order
  unsigned threads = 0;             ///< 0 = all cores (core::default_threads())

  /// InvalidArgument naming the field ("morgan_bits: must be 0 or a power of two in 64..4096, got 100",
  /// "smarts 'amide': SMARTS 'C(=O' does not compile", "no descriptor columns: ..."). Compiles every SMARTS.
  void validate() const;
  /// {"physchem", "morgan_radius", "morgan_bits", "smarts": [{"name", "smarts"}], "threads"}.
  nlohmann::json to_json() const;
  /// Missing keys keep their defaults; unknown keys, wrong types and invalid values are ParseError
  /// ("bio descriptor options: unknown field 'x' (allowed: ...)").
  static DescriptorOptions from_json(const nlohmann::json& j);
  bool operator==(const DescriptorOptions&) const = default;
};

/// Column names: physchem_names() (if physchem), then "smarts_<name>" per pattern, then "morgan_0".."morgan_<bits-1>".
std::vector<std::string> descriptor_names(const DescriptorOptions& options);

/// One molecule -> (descriptor_names(options).size()). Leading/trailing blanks are ignored. InvalidArgument
/// "unparseable SMILES 'C1CC' (unclosed ring bond 1)" (the reason in parentheses when known: RDKit's sanitisation
/// message, or unbalanced parentheses/brackets, an unclosed ring bond, whitespace inside, an empty string).
Eigen::VectorXd describe_smiles(const std::string& smiles, const DescriptorOptions& options);

/// Canonical SMILES (RDKit MolToSmiles, isomeric) of one molecule; InvalidArgument as describe_smiles.
std::string canonical_smiles(const std::string& smiles);

struct MoleculeDescriptors {
  std::vector<std::string> names;        ///< descriptor_names(options)
  Eigen::MatrixXd X;                     ///< (n_kept, n_descriptors)
  std::vector<std::size_t> rows;         ///< 0-based input index of each kept row (increasing)
  std::vector<std::string> canonical;    ///< canonical SMILES of each kept row
  struct Excluded {
    std::size_t row;                     ///< 0-based input index (describe_many); 1-based data row (DescriptorTable)
    std::string smiles, reason;          ///< reason: "unparseable SMILES 'xx' (...)" (+ file/row in DescriptorTable)
  };
  std::vector<Excluded> excluded;        ///< unparseable rows (only when skip_invalid)
};

/// Many molecules, rows computed in parallel (options.threads; the result does not depend on it). With
/// skip_invalid = false the first bad SMILES (lowest index) throws InvalidArgument "row 17: unparseable SMILES 'xx'"
/// (0-based row); with true bad rows are left out and listed in `excluded` (an all-bad input gives an empty X).
/// progress: ticked once per molecule.
MoleculeDescriptors describe_many(const std::vector<std::string>& smiles, const DescriptorOptions& options,
                                  bool skip_invalid = false, core::Progress* progress = nullptr);

/// Composition-weighted descriptors of mixtures/coatings: weights (n_mixtures, n_components) of non-negative finite
/// amounts, each row normalised to sum 1; components (n_components, n_descriptors) finite -> W_normalised *
/// components (n_mixtures, n_descriptors). InvalidArgument on a shape mismatch, a negative or non-finite weight
/// ("weights row 2, component 0: negative amount -0.1") or a row summing to 0 ("weights row 3 sums to 0");
/// rows and components are 0-based.
Eigen::MatrixXd mixture_descriptors(const Eigen::MatrixXd& weights, const Eigen::MatrixXd& components);

/// A CSV table with a SMILES column, described: the user columns (every input column but the SMILES one, in input
/// order, text kept as it is — measured contact angle, target, sample names), "canonical_smiles", the descriptors.
struct DescriptorTable {
  std::string source;                               ///< the input table's source (file name)
  std::vector<std::string> user_columns;            ///< input columns other than the SMILES column (see renamed)
  /// (input name, output name) of user columns renamed because an output column has their name: ESOL's
  /// "mol_weight" becomes "input_mol_weight" ("input_" repeated until the name is free).
  std::vector<std::pair<std::string, std::string>> renamed;
  std::vector<std::vector<std::string>> user_cells; ///< (n_kept) rows of user_columns.size() cells
  std::vector<std::size_t> line_numbers;            ///< 1-based input file line of each kept row
  /// The descriptors of the kept rows: names, X, rows (0-based indices into the input table's rows), canonical.
  /// molecules.excluded is empty: see `excluded`.
  MoleculeDescriptors molecules;
  /// Rows left out (skip_invalid): row = 1-based CSV data row; reason "FILE: row 17: unparseable SMILES 'xx' (...)".
  std::vector<MoleculeDescriptors::Excluded> excluded;
  /// Two kept rows with the same canonical SMILES (both stay in the table). Rows are 1-based CSV data rows;
  /// every later occurrence is paired with the first one (first_row < row).
  struct Duplicate {
    std::size_t first_row, row;
    std::string canonical;
  };
  std::vector<Duplicate> duplicates;

  std::size_t n_rows() const noexcept { return molecules.rows.size(); }
  /// user_columns, "canonical_smiles", molecules.names.
  std::vector<std::string> columns() const;
  /// The whole result as text cells (descriptors through core::format_double), source and line numbers kept, so
  /// that table().numeric({...}) reads user columns back with precise errors. Memory: one string per cell — for
  /// 10^5 molecules with wide fingerprints stream with write_csv instead.
  core::Table table() const;
  /// The same CSV text core::write_csv(path, columns(), table().rows) writes, streamed row by row.
  void write_csv(std::ostream& out) const;
  /// Atomic write (core::write_file_atomic) of write_csv(out).
  void write_csv(const std::filesystem::path& path) const;
};

/// Describe `table`'s `smiles_column` (InvalidArgument naming the columns if absent). A user column whose name
/// clashes with "canonical_smiles" or a descriptor column is renamed (see DescriptorTable::renamed). Unparseable or
/// empty SMILES: with
/// skip_invalid they are dropped and listed in `excluded`; otherwise InvalidArgument
/// "FILE: row 17: unparseable SMILES 'xx' (...)" (1-based data row). When no row is left: InvalidArgument
/// "FILE: no parseable SMILES in column 'smiles' (N rows excluded)". Duplicate canonical SMILES are reported in
/// `duplicates`, not dropped.
DescriptorTable descriptor_table(const core::Table& table, const std::string& smiles_column,
                                 const DescriptorOptions& options, bool skip_invalid = false,
                                 core::Progress* progress = nullptr);

}  // namespace tsunagu::bio
