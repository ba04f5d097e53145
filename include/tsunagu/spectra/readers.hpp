#pragma once
/// Spectrum file readers: ISO 14976 VAMAS (all blocks, every vendor's header variant) and two-column (or wider)
/// CSV/TXT, with a content-sniffing front door `read_spectra` and a summary for `tsunagu spectra info`.
///
/// Every malformed file raises tsunagu::ParseError whose what() is one line "FILE:LINE: [column 'C': ]MESSAGE"
/// (e.g. "a.vms:213: expected ordinate value 14 of 402 in block 'Fe 2p', got 'abc'"); a file that cannot be read
/// raises IoError naming it. Each returned Spectrum has passed Spectrum::validate(): finite, counts >= 0, strictly
/// monotonic energies, at least 2 points.
///
/// Energies are returned exactly as the file gives them (kinetic stays kinetic, order as in the file); convert with
/// to_scale()/make_fit_axis(). Counts are the file's ordinate values (counts or counts/s as the file says; the
/// unit is in metadata["ordinate_unit"]).
#include <filesystem>
#include <limits>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "tsunagu/spectra/spectrum.hpp"

namespace tsunagu::spectra {

/// Options for CSV/TXT files (which rarely say what they contain). VAMAS files state their scale and hν
/// themselves, so read_spectra ignores these options for them.
struct XyOptions {
  /// Energy scale of the first column. Unset: guessed from the header ("BE"/"binding" -> binding,
  /// "KE"/"kinetic" -> kinetic), binding when the header says nothing.
  std::optional<EnergyScale> scale;
  /// hν in eV stored in every returned Spectrum (NaN = unknown); needed later for kinetic <-> binding.
  double photon_energy = std::numeric_limits<double>::quiet_NaN();
};

/// All blocks of an ISO 14976 VAMAS file, in file order.
///
/// Supported: experiment modes NORM, SDP, SDPSV, MAP, MAPDP, MAPSV, MAPSVDP, SEM, NOEXP (their optional header and
/// block items are read and skipped/kept as the standard prescribes); scan modes REGULAR (axis = start +
/// i*increment) and IRREGULAR (the abscissa is the first corresponding variable, i.e. the values come interleaved
/// with the ordinates: x0, y0, [z0...], x1, y1, ...); the parameter inclusion/exclusion list (items omitted from
/// later blocks are inherited from the first block); future-upgrade entries; experimental variables. MAPPING scan
/// mode is rejected with a ParseError.
///
/// Per block: energy (n) eV from the abscissa, counts (n) = the first ordinate variable (other corresponding
/// variables such as a transmission function are named in metadata["variable.K"], their values dropped), scale
/// from the abscissa label ("Kinetic Energy" / "Binding Energy"; any other eV axis is taken as kinetic, the VAMAS
/// default; a non-eV axis is a ParseError), photon_energy = analysis source characteristic energy (NaN when the
/// file writes the "unknown" value 1e37; falls back to the Al/Mg Kα energy when only the source label names it),
/// work_function = analyser work function (0 when unknown), name = "species transition" (e.g. "Fe 2p").
/// metadata keys (present when the file gives a value): format, technique, source_label, block_id, sample_id,
/// date, species, transition, abscissa_label, abscissa_unit, ordinate_label, ordinate_unit, experiment_mode,
/// scan_mode, analyser_mode, pass_energy, dwell_time (s per channel), scans, signal_mode, institution, instrument,
/// operator, experiment, software, file_comment, block_comment, param.<label> ("value unit"), exp_variable.<label>,
/// variable.<K>, comment.<key> (key/value pairs found in comment lines: SPECS "k = v", Kratos "k : v", PHI "k: v";
/// first occurrence wins), and for a CasaXPS-processed block:
///   casa.regions / casa.components: counts;
///   casa.region.<i>[.name|.background|.start|.end|.background_params]: raw line and its fields (energies as in
///     the file, i.e. kinetic for a kinetic axis);
///   casa.component.<i>[.name|.lineshape|.area|.fwhm|.position]: raw line and its fields (i from 1 in file order).
std::vector<Spectrum> read_vamas(const std::filesystem::path& path);

/// Delimited text: a first column of energies (eV) and one or more columns of counts, one Spectrum per counts
/// column (named by its header, or "<file stem>" / "<file stem> column K" without one). Delimiter: tab, ';', ','
/// or runs of blanks, detected from the first data row; with ';' or tab a decimal comma is accepted.
/// Blank lines and lines starting with '#' are skipped; lines before the first row whose first field is a number
/// are header lines (the last one names the columns). Errors name file:line and the column: non-numeric or
/// non-finite values, negative counts, a ragged row, a non-monotonic or duplicated energy, fewer than 2 rows.
std::vector<Spectrum> read_xy(const std::filesystem::path& path, const XyOptions& options = {});

/// Dispatch on content: a file whose first line starts with "VAMAS Surface Chemical Analysis Standard", or whose
/// extension is .vms/.vamas (so a truncated VAMAS file gets the VAMAS error, not a CSV one), goes to read_vamas;
/// anything else to read_xy. A missing or unreadable file is IoError naming it.
std::vector<Spectrum> read_spectra(const std::filesystem::path& path, const XyOptions& options = {});

/// Machine-readable summary for `tsunagu spectra info`:
/// {"blocks": [{"index", "name", "points", "energy_min", "energy_max" (eV), "step" (eV, |Δ| when the axis is
/// evenly spaced to 1e-6 relative, else null), "ascending", "scale", "photon_energy" (eV or null),
/// "work_function" (eV), "source", "metadata": {a few useful entries}}, ...]}.
nlohmann::json describe(const std::vector<Spectrum>& spectra);

}  // namespace tsunagu::spectra
