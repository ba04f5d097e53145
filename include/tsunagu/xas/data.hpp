#pragma once
/// X-ray absorption spectra and the datasets they come in: energy meshes, interpolation, edge alignment and
/// normalisation, and loaders for Materials Project XAS documents, XANESNET-style folders (xyz + FDMNES spectra) and
/// descriptor tables. Loaders stream: for_each_record hands one record at a time to a callback so a dataset larger
/// than memory can be reduced (to descriptors and spectra on a mesh) while it is read.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json_fwd.hpp>

#include "tsunagu/structure/crystal.hpp"

namespace tsunagu::xas {

/// Equally spaced energy mesh lo, lo + step, ..., hi with n points (eV).
struct Mesh {
  double lo = 0.0, hi = 0.0;  ///< eV, lo < hi
  int n = 0;                  ///< >= 2
  Eigen::VectorXd points() const;  ///< (n) eV
  void validate() const;           ///< InvalidArgument "mesh: ..." naming the bad value
  std::string str() const;         ///< "LO:HI:N"
  nlohmann::json to_json() const;
  static Mesh from_json(const nlohmann::json& j);
  bool operator==(const Mesh&) const = default;
};
/// "LO:HI:N" (e.g. "7100:7180:161"); InvalidArgument naming the text otherwise.
Mesh parse_mesh(std::string_view text);

enum class Normalization {
  None,
  Max,   ///< divide by the maximum of the spectrum on the mesh
  Area,  ///< divide by the trapezoid integral over the mesh (unit area)
  Edge,  ///< divide by the mean of the last 10% of the mesh (edge-step normalisation of XANES, post-edge = 1)
};
Normalization parse_normalization(std::string_view name);  ///< "none"|"max"|"area"|"edge"
const char* normalization_name(Normalization n);

/// Linear interpolation of (energy, mu) onto `mesh`. energy must be strictly increasing and finite, sizes equal
/// and >= 2, mu finite; the mesh must lie within [energy.front(), energy.back()] (up to 1e-9 relative): otherwise
/// InvalidArgument naming `source` and the offending value ("mesh 7090 eV below the spectrum's first energy 7097").
Eigen::VectorXd interpolate(const Eigen::VectorXd& energy, const Eigen::VectorXd& mu, const Eigen::VectorXd& mesh,
                            const std::string& source = "<spectrum>");

/// Absorption-edge energy: the energy of the maximum of dmu/dE (central differences on the given points) within
/// the first half of the spectrum's energy range, refined by a parabola through the three points around it (eV).
double edge_energy(const Eigen::VectorXd& energy, const Eigen::VectorXd& mu);

struct SpectrumOptions {
  Mesh mesh;
  Normalization normalization = Normalization::None;
  /// When set, shift each spectrum's energies so that its edge_energy() lands at this energy (eV) before
  /// interpolation (removes the absolute-energy offsets of different codes or calibrations).
  std::optional<double> align_edge_to;
};
/// The spectrum on the mesh after alignment and normalisation; InvalidArgument naming source as for interpolate,
/// and for a zero normaliser.
Eigen::VectorXd prepare_spectrum(const Eigen::VectorXd& energy, const Eigen::VectorXd& mu,
                                 const SpectrumOptions& options, const std::string& source = "<spectrum>");

/// One spectrum with what it was computed or measured from.
struct Record {
  std::string id;      ///< e.g. "mp-19009-3-XANES-K" or the file stem
  std::string group;   ///< material for grouped splits (MP material_id; the file stem; the table's group column)
  std::string source;  ///< file (and entry) for messages
  std::optional<structure::Crystal> structure;  ///< absent for descriptor tables
  std::size_t absorber = 0;  ///< index of the absorbing site in `structure`
  std::string element;       ///< absorbing element symbol ("" when unknown)
  std::string edge;          ///< "K", "L3", ... ("" when unknown)
  Eigen::VectorXd energy;    ///< (n_points) eV (table format without energies: the mesh, or 0..n-1)
  Eigen::VectorXd mu;        ///< (n_points) absorption
  Eigen::VectorXd features;  ///< (n_features) precomputed descriptors (table format only)
};

enum class DataFormat { Auto, Mp, Xanesnet, Table };
DataFormat parse_data_format(std::string_view name);  ///< "auto"|"mp"|"xanesnet"|"table"
const char* data_format_name(DataFormat f);
/// Auto: a .csv file -> Table; a .json/.jsonl file or a directory of .json -> Mp; a directory of .xyz -> Xanesnet.
DataFormat detect_data_format(const std::filesystem::path& path);

struct LoadOptions {
  DataFormat format = DataFormat::Auto;
  /// Absorbing element ("Fe"): MP documents must match it (others are skipped and counted); XANESNET structures
  /// use its first atom as the absorber. Empty: MP uses each document's absorbing_index; XANESNET the first atom.
  std::string absorber;
  std::string spectrum_prefix = "s";   ///< Table: spectrum columns are <prefix><k>, k = 0..n-1
  std::string feature_prefix = "d";    ///< Table: descriptor columns are <prefix><k>
  std::string group_column = "group";  ///< Table: optional column of material names for grouped splits
  std::string id_column = "id";        ///< Table: optional column of record ids
  std::optional<Mesh> table_mesh;      ///< Table: energies of the spectrum columns (n must equal their count)
};

struct LoadSummary {
  std::size_t records = 0;
  std::size_t skipped = 0;            ///< e.g. MP documents for another absorbing element
  std::vector<std::string> notes;     ///< one line per kind of skip, with counts
  std::vector<std::string> feature_names;  ///< Table: descriptor column names
};

/// Stream the records of a dataset to `callback` in a deterministic order (sorted file names; file order in a
/// file). Formats:
///  * Mp: a JSON array of documents, one document, JSON lines (.jsonl), or a directory of such files. A document
///    is a Materials Project XAS document: {"spectrum": {"x": [...], "y": [...], "structure": {...},
///    "absorbing_index": i, "absorbing_element": "O", "edge": "K"}, "material_id": "mp-..", "xas_id": ..}; the
///    fields may also sit at the top level (pymatgen XAS.as_dict()).
///  * Xanesnet: `path` is a directory of .xyz files (absorber first, XANESNET convention) whose spectra are the
///    FDMNES outputs "<stem>.txt" (two header lines, then "energy mu" rows) in the sibling directory whose name
///    replaces "xyz" by "xanes" (xyz_train -> xanes_train), or in `path`/../xanes; a structure without its
///    spectrum, or the reverse, is a ParseError naming the file.
///  * Table: CSV with descriptor and spectrum columns (see LoadOptions).
/// Errors name the file (and line/entry): ParseError for malformed content, empty or ragged spectra, non-finite
/// values; InvalidArgument for a structure without the absorbing element.
LoadSummary for_each_record(const std::filesystem::path& path, const LoadOptions& options,
                            const std::function<void(Record&&)>& callback);

struct Dataset {
  std::vector<Record> records;
  LoadSummary summary;
  DataFormat format = DataFormat::Auto;
};
/// All records in memory (for_each_record collecting).
Dataset load_dataset(const std::filesystem::path& path, const LoadOptions& options = {});

/// The largest mesh covered by every record (max of first energies to min of last energies) with `n` points, or
/// with the median point count of the records when n == 0. InvalidArgument when the ranges do not overlap.
Mesh common_mesh(const std::vector<Record>& records, int n = 0);

// ---- splits (no leakage between spectra of one material) ----

/// Fold index (0..k-1) per record such that all records of one group share a fold; groups are shuffled with
/// `seed` and assigned greedily to the currently smallest fold (balanced sizes). InvalidArgument when there are
/// fewer groups than folds.
std::vector<int> grouped_kfold(const std::vector<std::string>& groups, int k, std::uint64_t seed);
/// true = test. About test_fraction of the records, whole groups only, seeded.
std::vector<bool> grouped_split(const std::vector<std::string>& groups, double test_fraction, std::uint64_t seed);

}  // namespace tsunagu::xas
