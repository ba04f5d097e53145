#pragma once
/// Area-normalised peak line shapes. Every shape is parametrised by one vector
///   p = [center (eV), fwhm (eV), area (counts·eV), shape parameters...]        size 3 + n_shape_params(shape)
/// and the model value at energy x is area × profile(x), profile in 1/eV with ∫ profile = 1 (except DS, below).
///
/// | shape     | name       | shape parameters                         | notes                                       |
/// |-----------|------------|------------------------------------------|---------------------------------------------|
/// | Gaussian  | "gauss"    | —                                        |                                             |
/// | Lorentzian| "lorentz"  | —                                        |                                             |
/// | Voigt     | "voigt"    | lorentz_fraction ρ ∈ [0,1]               | exact Voigt (libcerf); fwhm = total FWHM     |
/// |           |            |                                          | (Olivero–Longbothum, 0.024 %), f_L = ρ·fwhm   |
/// | pseudo-V. | "pvoigt"   | eta η ∈ [0,1]                            | (1−η)·G(fwhm) + η·L(fwhm)                    |
/// | DS        | "ds"       | alpha α ∈ [0,1)                          | Doniach–Šunjić, γ = fwhm/2, tail toward +x;  |
/// |           |            |                                          | area = that of the α=0 Lorentzian (the DS    |
/// |           |            |                                          | integral diverges for α>0); center = x0;     |
/// |           |            |                                          | profile Γ(1−α)/(πγ)·cos(πα/2+(1−α)atan(ε/γ)) |
/// |           |            |                                          | /(1+(ε/γ)²)^((1−α)/2), ε = center − x, so it  |
/// |           |            |                                          | is in 1/eV for every α                       |
/// | DS ⊗ G    | "ds_gauss" | alpha α, gauss_fwhm (eV)                 | DS convolved with a Gaussian of gauss_fwhm   |
///
/// The tail of DS points toward larger x, i.e. toward higher binding energy on the fitters' axis (spectrum.hpp).
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace tsunagu::spectra {

enum class Shape { Gaussian, Lorentzian, Voigt, PseudoVoigt, DoniachSunjic, DoniachSunjicGauss };

inline constexpr std::size_t kCenter = 0, kFwhm = 1, kArea = 2, kFirstShapeParam = 3;

std::string to_string(Shape s);                 ///< "gauss", "lorentz", "voigt", "pvoigt", "ds", "ds_gauss"
Shape shape_from_string(const std::string& s);  ///< inverse (also "gaussian", "lorentzian", "pseudo-voigt");
                                                ///< InvalidArgument listing the valid names otherwise
std::size_t n_shape_params(Shape s);
std::size_t n_params(Shape s);  ///< 3 + n_shape_params
std::vector<std::string> shape_param_names(Shape s);
std::vector<double> default_shape_params(Shape s);  ///< starting values used by the fitters
/// Lower/upper admissible value of each shape parameter (e.g. η ∈ [0,1], α ∈ [0, 0.5]).
std::vector<double> shape_param_lower(Shape s);
std::vector<double> shape_param_upper(Shape s);
/// Throws InvalidArgument naming the parameter when p has the wrong size, fwhm <= 0, or a shape parameter is
/// outside its admissible range. `what` prefixes the message (e.g. "peak 2").
void validate_params(Shape s, std::span<const double> p, const std::string& what = "peak");

/// area-normalised profile value at x (1/eV) for p (the area entry is ignored).
double profile(Shape s, std::span<const double> p, double x);

/// out[i] += area · profile(x[i]) for all i. x and out have the same length.
void add_peak(Shape s, std::span<const double> p, std::span<const double> x, std::span<double> out);

/// As add_peak, and also jac[j * n + i] = ∂ value(x_i) / ∂ p_j (column-major, n = x.size(), j < n_params(s);
/// jac is overwritten, out is accumulated). Analytic for gauss, lorentz, pvoigt, voigt (via the Faddeeva function);
/// central differences for ds and ds_gauss.
void add_peak_jacobian(Shape s, std::span<const double> p, std::span<const double> x, std::span<double> out,
                       std::span<double> jac);

/// Full width at half maximum of the actual profile, found numerically (equals p[kFwhm] up to 0.024 % (Voigt) except for
/// ds / ds_gauss, whose asymmetric profile is wider than 2γ).
double measured_fwhm(Shape s, std::span<const double> p);

/// Position of the profile maximum (== center except for the asymmetric ds / ds_gauss).
double peak_maximum(Shape s, std::span<const double> p);

/// Voigt profile V(x; σ, γ) = Re w((x + iγ) / (σ√2)) / (σ√(2π)) via libcerf (σ Gaussian SD, γ Lorentzian HWHM).
double voigt_profile(double x, double sigma, double gamma);

}  // namespace tsunagu::spectra
