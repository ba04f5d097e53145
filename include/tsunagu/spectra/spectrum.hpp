#pragma once
/// A single photoelectron spectrum (energy axis + counts) and the operations every reader and fitter shares:
/// validation with messages that name the file/block, energy-scale conversion and region cropping.
///
/// Conventions used throughout tsunagu::spectra:
/// - energies are in eV; binding energy BE = hν − KE − φ (φ = analyser work function, 0 when unknown);
/// - the fitters work on an ascending "binding-like" axis u (u = BE, or u = −KE when hν is unknown), so
///   inelastic tails (Doniach–Šunjić) and background steps (Shirley, Tougaard) always rise toward larger u;
/// - a peak's `area` is in counts·eV: model value at a channel = area × (area-normalised profile in 1/eV).
#include <cstddef>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace tsunagu::spectra {

enum class EnergyScale { Binding, Kinetic };
std::string to_string(EnergyScale s);                     ///< "binding" | "kinetic"
EnergyScale energy_scale_from_string(const std::string& s);  ///< inverse; InvalidArgument otherwise

struct Spectrum {
  std::vector<double> energy;  ///< (n) eV on `scale`; strictly monotonic (ascending or descending)
  std::vector<double> counts;  ///< (n) counts or counts/s per channel; finite and >= 0
  EnergyScale scale = EnergyScale::Binding;
  double photon_energy = std::numeric_limits<double>::quiet_NaN();  ///< hν in eV; NaN when unknown
  double work_function = 0.0;  ///< φ in eV used for KE <-> BE
  std::string name;            ///< block / region label, e.g. "Fe 2p" (for messages and output)
  std::string source;          ///< file it came from (for messages); may be empty
  std::map<std::string, std::string> metadata;  ///< reader-specific extras (technique, source label, comments...)

  std::size_t size() const noexcept { return energy.size(); }
  /// Throws InvalidArgument naming source/name and the offending index/value: size mismatch, fewer than 2
  /// points, non-finite energy or counts, negative counts, non-monotonic or duplicated energies.
  void validate() const;
  std::string label() const;  ///< "source [name]" for messages
};

/// Same spectrum on another scale (needs a finite photon_energy unless scale already matches).
Spectrum to_scale(const Spectrum& s, EnergyScale scale);

/// Points with lo <= energy <= hi (either order of lo/hi). InvalidArgument "region lo:hi of <label> contains no
/// points (data span a..b eV)" when empty.
Spectrum crop(const Spectrum& s, double lo, double hi);

/// Parse "LO:HI" (eV) as given to --region; InvalidArgument naming the text otherwise.
std::pair<double, double> parse_region(const std::string& text);

/// The fitters' axis: returns u ascending (u = BE, or −KE when hν is unknown and the data are kinetic) with
/// counts reordered to match, and the map back. `from_u(u)` gives the energy on `out_scale`.
struct FitAxis {
  std::vector<double> u;       ///< (n) ascending
  std::vector<double> counts;  ///< (n) counts in the order of u
  EnergyScale out_scale = EnergyScale::Binding;  ///< scale results are reported on
  double sign = 1, offset = 0;  ///< energy_on_out_scale = sign * u + offset
  double to_out(double u_value) const noexcept { return sign * u_value + offset; }
  double from_out(double e) const noexcept { return (e - offset) / sign; }
  double width_to_out(double w) const noexcept { return w; }  ///< widths/areas are unchanged (|sign| = 1)
};
/// Build the axis. `out_scale` is the scale results are reported on; converting needs hν (InvalidArgument when
/// it is unknown and the scales differ).
FitAxis make_fit_axis(const Spectrum& s, EnergyScale out_scale);

}  // namespace tsunagu::spectra
