#include "tsunagu/spectra/spectrum.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/table.hpp"

namespace tsunagu::spectra {

std::string to_string(EnergyScale s) { return s == EnergyScale::Binding ? "binding" : "kinetic"; }

EnergyScale energy_scale_from_string(const std::string& s) {
  if (s == "binding" || s == "BE" || s == "be") return EnergyScale::Binding;
  if (s == "kinetic" || s == "KE" || s == "ke") return EnergyScale::Kinetic;
  throw InvalidArgument("energy scale '" + s + "' is not one of: binding, kinetic");
}

std::string Spectrum::label() const {
  std::string out = source.empty() ? std::string("spectrum") : source;
  if (!name.empty()) out += " [" + name + "]";
  return out;
}

void Spectrum::validate() const {
  const std::string who = label();
  if (energy.size() != counts.size())
    throw InvalidArgument(who + ": " + std::to_string(energy.size()) + " energies but " +
                          std::to_string(counts.size()) + " counts");
  if (energy.size() < 2)
    throw InvalidArgument(who + ": needs at least 2 points, has " + std::to_string(energy.size()));
  for (std::size_t i = 0; i < energy.size(); ++i) {
    if (!std::isfinite(energy[i]))
      throw InvalidArgument(who + ": energy at point " + std::to_string(i) + " is not finite (" +
                            core::format_double(energy[i]) + ")");
    if (!std::isfinite(counts[i]))
      throw InvalidArgument(who + ": counts at point " + std::to_string(i) + " (" + core::format_double(energy[i]) +
                            " eV) are not finite");
    if (counts[i] < 0)
      throw InvalidArgument(who + ": negative counts " + core::format_double(counts[i]) + " at point " +
                            std::to_string(i) + " (" + core::format_double(energy[i]) + " eV)");
  }
  const bool ascending = energy[1] > energy[0];
  for (std::size_t i = 1; i < energy.size(); ++i) {
    const double d = energy[i] - energy[i - 1];
    if (d == 0)
      throw InvalidArgument(who + ": duplicated energy " + core::format_double(energy[i]) + " eV at points " +
                            std::to_string(i - 1) + " and " + std::to_string(i));
    if ((d > 0) != ascending)
      throw InvalidArgument(who + ": energy axis is not monotonic at point " + std::to_string(i) + " (" +
                            core::format_double(energy[i - 1]) + " -> " + core::format_double(energy[i]) + " eV)");
  }
}

Spectrum to_scale(const Spectrum& s, EnergyScale scale) {
  if (s.scale == scale) return s;
  if (!std::isfinite(s.photon_energy))
    throw InvalidArgument(s.label() + ": converting " + to_string(s.scale) + " to " + to_string(scale) +
                          " energy needs the photon energy, which the file does not give (use --energy " +
                          to_string(s.scale) + " or set the photon energy)");
  Spectrum out = s;
  out.scale = scale;
  // BE = hν − KE − φ and KE = hν − BE − φ: the same map both ways.
  for (double& e : out.energy) e = s.photon_energy - e - s.work_function;
  return out;
}

Spectrum crop(const Spectrum& s, double lo, double hi) {
  if (lo > hi) std::swap(lo, hi);
  Spectrum out = s;
  out.energy.clear();
  out.counts.clear();
  for (std::size_t i = 0; i < s.energy.size(); ++i) {
    if (s.energy[i] >= lo && s.energy[i] <= hi) {
      out.energy.push_back(s.energy[i]);
      out.counts.push_back(s.counts[i]);
    }
  }
  if (out.energy.empty()) {
    double a = s.energy.empty() ? NAN : *std::min_element(s.energy.begin(), s.energy.end());
    double b = s.energy.empty() ? NAN : *std::max_element(s.energy.begin(), s.energy.end());
    throw InvalidArgument("region " + core::format_double(lo) + ":" + core::format_double(hi) + " of " + s.label() +
                          " contains no points (data span " + core::format_double(a) + ".." + core::format_double(b) +
                          " eV, " + to_string(s.scale) + " energy)");
  }
  return out;
}

std::pair<double, double> parse_region(const std::string& text) {
  const auto colon = text.find(':');
  auto bad = [&] { return InvalidArgument("region '" + text + "' is not LO:HI in eV (e.g. 280:295)"); };
  if (colon == std::string::npos) throw bad();
  auto num = [&](const std::string& t) {
    std::size_t pos = 0;
    double v = 0;
    try {
      v = std::stod(t, &pos);
    } catch (const std::exception&) {
      throw bad();
    }
    if (pos != t.size() || !std::isfinite(v)) throw bad();
    return v;
  };
  const double lo = num(text.substr(0, colon)), hi = num(text.substr(colon + 1));
  if (lo == hi) throw InvalidArgument("region '" + text + "' is empty (LO == HI)");
  return {std::min(lo, hi), std::max(lo, hi)};
}

FitAxis make_fit_axis(const Spectrum& s, EnergyScale out_scale) {
  s.validate();
  const Spectrum rep = to_scale(s, out_scale);  // throws when hν is needed but unknown
  FitAxis a;
  a.out_scale = out_scale;
  // u increases with binding energy: u = BE, or u = −KE (BE = hν − φ − KE up to a constant).
  a.sign = out_scale == EnergyScale::Binding ? 1.0 : -1.0;
  a.offset = 0;
  const std::size_t n = rep.size();
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::vector<double> u(n);
  for (std::size_t i = 0; i < n; ++i) u[i] = a.sign * rep.energy[i];
  if (u.front() > u.back()) std::reverse(idx.begin(), idx.end());
  a.u.resize(n);
  a.counts.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    a.u[i] = u[idx[i]];
    a.counts[i] = rep.counts[idx[i]];
  }
  return a;
}

}  // namespace tsunagu::spectra
