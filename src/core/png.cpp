#include "tsunagu/core/png.hpp"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"

namespace tsunagu::core::png {

namespace {

/// matplotlib's "viridis" (Stéfan van der Walt and Nathaniel Smith, CC0), copied digit for digit from
/// _viridis_data in matplotlib/lib/matplotlib/_cm_listed.py (the ListedColormap behind matplotlib.cm.viridis).
/// Checked when transcribed: 256 entries, entries 0/64/128/192/255 as floor(255 c) = (68,1,84) (58,82,139)
/// (32,144,140) (94,201,97) (253,231,36), and smooth second differences (< 1e-3) along the whole table.
constexpr std::array<std::array<double, 3>, 256> kViridis = {{
    {{0.267004, 0.004874, 0.329415}}, {{0.268510, 0.009605, 0.335427}},
    {{0.269944, 0.014625, 0.341379}}, {{0.271305, 0.019942, 0.347269}},
    {{0.272594, 0.025563, 0.353093}}, {{0.273809, 0.031497, 0.358853}},
    {{0.274952, 0.037752, 0.364543}}, {{0.276022, 0.044167, 0.370164}},
    {{0.277018, 0.050344, 0.375715}}, {{0.277941, 0.056324, 0.381191}},
    {{0.278791, 0.062145, 0.386592}}, {{0.279566, 0.067836, 0.391917}},
    {{0.280267, 0.073417, 0.397163}}, {{0.280894, 0.078907, 0.402329}},
    {{0.281446, 0.084320, 0.407414}}, {{0.281924, 0.089666, 0.412415}},
    {{0.282327, 0.094955, 0.417331}}, {{0.282656, 0.100196, 0.422160}},
    {{0.282910, 0.105393, 0.426902}}, {{0.283091, 0.110553, 0.431554}},
    {{0.283197, 0.115680, 0.436115}}, {{0.283229, 0.120777, 0.440584}},
    {{0.283187, 0.125848, 0.444960}}, {{0.283072, 0.130895, 0.449241}},
    {{0.282884, 0.135920, 0.453427}}, {{0.282623, 0.140926, 0.457517}},
    {{0.282290, 0.145912, 0.461510}}, {{0.281887, 0.150881, 0.465405}},
    {{0.281412, 0.155834, 0.469201}}, {{0.280868, 0.160771, 0.472899}},
    {{0.280255, 0.165693, 0.476498}}, {{0.279574, 0.170599, 0.479997}},
    {{0.278826, 0.175490, 0.483397}}, {{0.278012, 0.180367, 0.486697}},
    {{0.277134, 0.185228, 0.489898}}, {{0.276194, 0.190074, 0.493001}},
    {{0.275191, 0.194905, 0.496005}}, {{0.274128, 0.199721, 0.498911}},
    {{0.273006, 0.204520, 0.501721}}, {{0.271828, 0.209303, 0.504434}},
    {{0.270595, 0.214069, 0.507052}}, {{0.269308, 0.218818, 0.509577}},
    {{0.267968, 0.223549, 0.512008}}, {{0.266580, 0.228262, 0.514349}},
    {{0.265145, 0.232956, 0.516599}}, {{0.263663, 0.237631, 0.518762}},
    {{0.262138, 0.242286, 0.520837}}, {{0.260571, 0.246922, 0.522828}},
    {{0.258965, 0.251537, 0.524736}}, {{0.257322, 0.256130, 0.526563}},
    {{0.255645, 0.260703, 0.528312}}, {{0.253935, 0.265254, 0.529983}},
    {{0.252194, 0.269783, 0.531579}}, {{0.250425, 0.274290, 0.533103}},
    {{0.248629, 0.278775, 0.534556}}, {{0.246811, 0.283237, 0.535941}},
    {{0.244972, 0.287675, 0.537260}}, {{0.243113, 0.292092, 0.538516}},
    {{0.241237, 0.296485, 0.539709}}, {{0.239346, 0.300855, 0.540844}},
    {{0.237441, 0.305202, 0.541921}}, {{0.235526, 0.309527, 0.542944}},
    {{0.233603, 0.313828, 0.543914}}, {{0.231674, 0.318106, 0.544834}},
    {{0.229739, 0.322361, 0.545706}}, {{0.227802, 0.326594, 0.546532}},
    {{0.225863, 0.330805, 0.547314}}, {{0.223925, 0.334994, 0.548053}},
    {{0.221989, 0.339161, 0.548752}}, {{0.220057, 0.343307, 0.549413}},
    {{0.218130, 0.347432, 0.550038}}, {{0.216210, 0.351535, 0.550627}},
    {{0.214298, 0.355619, 0.551184}}, {{0.212395, 0.359683, 0.551710}},
    {{0.210503, 0.363727, 0.552206}}, {{0.208623, 0.367752, 0.552675}},
    {{0.206756, 0.371758, 0.553117}}, {{0.204903, 0.375746, 0.553533}},
    {{0.203063, 0.379716, 0.553925}}, {{0.201239, 0.383670, 0.554294}},
    {{0.199430, 0.387607, 0.554642}}, {{0.197636, 0.391528, 0.554969}},
    {{0.195860, 0.395433, 0.555276}}, {{0.194100, 0.399323, 0.555565}},
    {{0.192357, 0.403199, 0.555836}}, {{0.190631, 0.407061, 0.556089}},
    {{0.188923, 0.410910, 0.556326}}, {{0.187231, 0.414746, 0.556547}},
    {{0.185556, 0.418570, 0.556753}}, {{0.183898, 0.422383, 0.556944}},
    {{0.182256, 0.426184, 0.557120}}, {{0.180629, 0.429975, 0.557282}},
    {{0.179019, 0.433756, 0.557430}}, {{0.177423, 0.437527, 0.557565}},
    {{0.175841, 0.441290, 0.557685}}, {{0.174274, 0.445044, 0.557792}},
    {{0.172719, 0.448791, 0.557885}}, {{0.171176, 0.452530, 0.557965}},
    {{0.169646, 0.456262, 0.558030}}, {{0.168126, 0.459988, 0.558082}},
    {{0.166617, 0.463708, 0.558119}}, {{0.165117, 0.467423, 0.558141}},
    {{0.163625, 0.471133, 0.558148}}, {{0.162142, 0.474838, 0.558140}},
    {{0.160665, 0.478540, 0.558115}}, {{0.159194, 0.482237, 0.558073}},
    {{0.157729, 0.485932, 0.558013}}, {{0.156270, 0.489624, 0.557936}},
    {{0.154815, 0.493313, 0.557840}}, {{0.153364, 0.497000, 0.557724}},
    {{0.151918, 0.500685, 0.557587}}, {{0.150476, 0.504369, 0.557430}},
    {{0.149039, 0.508051, 0.557250}}, {{0.147607, 0.511733, 0.557049}},
    {{0.146180, 0.515413, 0.556823}}, {{0.144759, 0.519093, 0.556572}},
    {{0.143343, 0.522773, 0.556295}}, {{0.141935, 0.526453, 0.555991}},
    {{0.140536, 0.530132, 0.555659}}, {{0.139147, 0.533812, 0.555298}},
    {{0.137770, 0.537492, 0.554906}}, {{0.136408, 0.541173, 0.554483}},
    {{0.135066, 0.544853, 0.554029}}, {{0.133743, 0.548535, 0.553541}},
    {{0.132444, 0.552216, 0.553018}}, {{0.131172, 0.555899, 0.552459}},
    {{0.129933, 0.559582, 0.551864}}, {{0.128729, 0.563265, 0.551229}},
    {{0.127568, 0.566949, 0.550556}}, {{0.126453, 0.570633, 0.549841}},
    {{0.125394, 0.574318, 0.549086}}, {{0.124395, 0.578002, 0.548287}},
    {{0.123463, 0.581687, 0.547445}}, {{0.122606, 0.585371, 0.546557}},
    {{0.121831, 0.589055, 0.545623}}, {{0.121148, 0.592739, 0.544641}},
    {{0.120565, 0.596422, 0.543611}}, {{0.120092, 0.600104, 0.542530}},
    {{0.119738, 0.603785, 0.541400}}, {{0.119512, 0.607464, 0.540218}},
    {{0.119423, 0.611141, 0.538982}}, {{0.119483, 0.614817, 0.537692}},
    {{0.119699, 0.618490, 0.536347}}, {{0.120081, 0.622161, 0.534946}},
    {{0.120638, 0.625828, 0.533488}}, {{0.121380, 0.629492, 0.531973}},
    {{0.122312, 0.633153, 0.530398}}, {{0.123444, 0.636809, 0.528763}},
    {{0.124780, 0.640461, 0.527068}}, {{0.126326, 0.644107, 0.525311}},
    {{0.128087, 0.647749, 0.523491}}, {{0.130067, 0.651384, 0.521608}},
    {{0.132268, 0.655014, 0.519661}}, {{0.134692, 0.658636, 0.517649}},
    {{0.137339, 0.662252, 0.515571}}, {{0.140210, 0.665859, 0.513427}},
    {{0.143303, 0.669459, 0.511215}}, {{0.146616, 0.673050, 0.508936}},
    {{0.150148, 0.676631, 0.506589}}, {{0.153894, 0.680203, 0.504172}},
    {{0.157851, 0.683765, 0.501686}}, {{0.162016, 0.687316, 0.499129}},
    {{0.166383, 0.690856, 0.496502}}, {{0.170948, 0.694384, 0.493803}},
    {{0.175707, 0.697900, 0.491033}}, {{0.180653, 0.701402, 0.488189}},
    {{0.185783, 0.704891, 0.485273}}, {{0.191090, 0.708366, 0.482284}},
    {{0.196571, 0.711827, 0.479221}}, {{0.202219, 0.715272, 0.476084}},
    {{0.208030, 0.718701, 0.472873}}, {{0.214000, 0.722114, 0.469588}},
    {{0.220124, 0.725509, 0.466226}}, {{0.226397, 0.728888, 0.462789}},
    {{0.232815, 0.732247, 0.459277}}, {{0.239374, 0.735588, 0.455688}},
    {{0.246070, 0.738910, 0.452024}}, {{0.252899, 0.742211, 0.448284}},
    {{0.259857, 0.745492, 0.444467}}, {{0.266941, 0.748751, 0.440573}},
    {{0.274149, 0.751988, 0.436601}}, {{0.281477, 0.755203, 0.432552}},
    {{0.288921, 0.758394, 0.428426}}, {{0.296479, 0.761561, 0.424223}},
    {{0.304148, 0.764704, 0.419943}}, {{0.311925, 0.767822, 0.415586}},
    {{0.319809, 0.770914, 0.411152}}, {{0.327796, 0.773980, 0.406640}},
    {{0.335885, 0.777018, 0.402049}}, {{0.344074, 0.780029, 0.397381}},
    {{0.352360, 0.783011, 0.392636}}, {{0.360741, 0.785964, 0.387814}},
    {{0.369214, 0.788888, 0.382914}}, {{0.377779, 0.791781, 0.377939}},
    {{0.386433, 0.794644, 0.372886}}, {{0.395174, 0.797475, 0.367757}},
    {{0.404001, 0.800275, 0.362552}}, {{0.412913, 0.803041, 0.357269}},
    {{0.421908, 0.805774, 0.351910}}, {{0.430983, 0.808473, 0.346476}},
    {{0.440137, 0.811138, 0.340967}}, {{0.449368, 0.813768, 0.335384}},
    {{0.458674, 0.816363, 0.329727}}, {{0.468053, 0.818921, 0.323998}},
    {{0.477504, 0.821444, 0.318195}}, {{0.487026, 0.823929, 0.312321}},
    {{0.496615, 0.826376, 0.306377}}, {{0.506271, 0.828786, 0.300362}},
    {{0.515992, 0.831158, 0.294279}}, {{0.525776, 0.833491, 0.288127}},
    {{0.535621, 0.835785, 0.281908}}, {{0.545524, 0.838039, 0.275626}},
    {{0.555484, 0.840254, 0.269281}}, {{0.565498, 0.842430, 0.262877}},
    {{0.575563, 0.844566, 0.256415}}, {{0.585678, 0.846661, 0.249897}},
    {{0.595839, 0.848717, 0.243329}}, {{0.606045, 0.850733, 0.236712}},
    {{0.616293, 0.852709, 0.230052}}, {{0.626579, 0.854645, 0.223353}},
    {{0.636902, 0.856542, 0.216620}}, {{0.647257, 0.858400, 0.209861}},
    {{0.657642, 0.860219, 0.203082}}, {{0.668054, 0.861999, 0.196293}},
    {{0.678489, 0.863742, 0.189503}}, {{0.688944, 0.865448, 0.182725}},
    {{0.699415, 0.867117, 0.175971}}, {{0.709898, 0.868751, 0.169257}},
    {{0.720391, 0.870350, 0.162603}}, {{0.730889, 0.871916, 0.156029}},
    {{0.741388, 0.873449, 0.149561}}, {{0.751884, 0.874951, 0.143228}},
    {{0.762373, 0.876424, 0.137064}}, {{0.772852, 0.877868, 0.131109}},
    {{0.783315, 0.879285, 0.125405}}, {{0.793760, 0.880678, 0.120005}},
    {{0.804182, 0.882046, 0.114965}}, {{0.814576, 0.883393, 0.110347}},
    {{0.824940, 0.884720, 0.106217}}, {{0.835270, 0.886029, 0.102646}},
    {{0.845561, 0.887322, 0.099702}}, {{0.855810, 0.888601, 0.097452}},
    {{0.866013, 0.889868, 0.095953}}, {{0.876168, 0.891125, 0.095250}},
    {{0.886271, 0.892374, 0.095374}}, {{0.896320, 0.893616, 0.096335}},
    {{0.906311, 0.894855, 0.098125}}, {{0.916242, 0.896091, 0.100717}},
    {{0.926106, 0.897330, 0.104071}}, {{0.935904, 0.898570, 0.108131}},
    {{0.945636, 0.899815, 0.112838}}, {{0.955300, 0.901065, 0.118128}},
    {{0.964894, 0.902323, 0.123941}}, {{0.974417, 0.903590, 0.130215}},
    {{0.983868, 0.904867, 0.136897}}, {{0.993248, 0.906157, 0.143936}},
}};

// ---------------------------------------------------------------------------------------------------------
// libpng glue. libpng reports errors by longjmp; the functions that call setjmp hold only trivially destructible
// locals, and the callbacks never let a C++ exception cross libpng's C frames.

struct WriteState {
  std::string* out = nullptr;
  bool out_of_memory = false;
  char error[256] = {};
};

extern "C" void on_png_error(png_structp png, png_const_charp message) {
  auto* st = static_cast<WriteState*>(png_get_error_ptr(png));
  if (st) std::snprintf(st->error, sizeof st->error, "%s", message ? message : "unknown libpng error");
  png_longjmp(png, 1);
}

extern "C" void on_png_warning(png_structp, png_const_charp) {}

extern "C" void on_png_write(png_structp png, png_bytep data, png_size_t n) {
  auto* st = static_cast<WriteState*>(png_get_io_ptr(png));
  try {
    st->out->append(reinterpret_cast<const char*>(data), n);
  } catch (...) {
    st->out_of_memory = true;
  }
  if (st->out_of_memory) png_error(png, "out of memory while encoding");
}

extern "C" void on_png_flush(png_structp) {}

/// Returns false with st.error set when libpng fails.
bool encode_raw(const Image& image, png_text* text, int n_text, png_bytep* rows, WriteState& st) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &st, on_png_error, on_png_warning);
  if (png == nullptr) {
    std::snprintf(st.error, sizeof st.error, "png_create_write_struct failed");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    std::snprintf(st.error, sizeof st.error, "png_create_info_struct failed");
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, &st, on_png_write, on_png_flush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), 8,
               image.channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 6);
  if (n_text > 0) png_set_text(png, info, text, n_text);
  png_set_rows(png, info, rows);
  png_write_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

/// PNG keyword rule (PNG spec 11.3.4.2): 1-79 Latin-1 printable characters, no leading/trailing/double spaces.
void check_keyword(const std::string& key) {
  bool ok = !key.empty() && key.size() <= 79 && key.front() != ' ' && key.back() != ' ' &&
            key.find("  ") == std::string::npos;
  for (char c : key) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 32 || u > 126) ok = false;  // ASCII only: a UTF-8 string is not Latin-1
  }
  if (!ok)
    throw InvalidArgument("png: text keyword '" + key +
                          "' is invalid (need 1-79 printable ASCII characters without leading, trailing or double "
                          "spaces)");
}

bool is_ascii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 128; });
}

// ---------------------------------------------------------------------------------------------------------
// Drawing helpers for render_map

/// 5x7 pixel glyphs (HD44780-style) for the characters numeric tick labels need; rows top to bottom, bit 4 =
/// leftmost column.
struct Glyph {
  char c;
  std::array<std::uint8_t, 7> rows;
};
constexpr std::array<Glyph, 14> kFont = {{
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}},
    {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}},
    {'+', {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}},
    {'e', {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E}},
}};
constexpr int kGlyphW = 5, kGlyphH = 7;

void set_pixel(Image& img, int x, int y, Rgba8 c) {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  std::uint8_t* p = img.at(x, y);
  for (int k = 0; k < img.channels; ++k) p[k] = c[static_cast<std::size_t>(k)];
}

void fill_rect(Image& img, int x0, int y0, int w, int h, Rgba8 c) {
  for (int y = y0; y < y0 + h; ++y)
    for (int x = x0; x < x0 + w; ++x) set_pixel(img, x, y, c);
}

/// 1 px outline just outside the w x h box at (x0, y0).
void outline(Image& img, int x0, int y0, int w, int h, Rgba8 c) {
  fill_rect(img, x0 - 1, y0 - 1, w + 2, 1, c);
  fill_rect(img, x0 - 1, y0 + h, w + 2, 1, c);
  fill_rect(img, x0 - 1, y0, 1, h, c);
  fill_rect(img, x0 + w, y0, 1, h, c);
}

int text_width(const std::string& s, int f) { return s.empty() ? 0 : static_cast<int>(s.size()) * (kGlyphW + 1) * f - f; }

/// Draw `s` with its top-left corner at (x, y), each font pixel an f x f block. Characters outside the font are
/// left blank (labels are produced by format_tick and only use the font's characters).
void draw_text(Image& img, int x, int y, const std::string& s, int f, Rgba8 c) {
  for (char ch : s) {
    for (const auto& g : kFont) {
      if (g.c != ch) continue;
      for (int r = 0; r < kGlyphH; ++r)
        for (int col = 0; col < kGlyphW; ++col)
          if (g.rows[static_cast<std::size_t>(r)] & (1u << (kGlyphW - 1 - col))) fill_rect(img, x + col * f, y + r * f, f, f, c);
    }
    x += (kGlyphW + 1) * f;
  }
}

/// About 4-6 "nice" values (1, 2, 5 x 10^k steps) inside [lo, hi], and the step's exponent for formatting.
std::vector<double> nice_ticks(double lo, double hi, int& exponent) {
  std::vector<double> ticks;
  exponent = 0;
  if (!(hi > lo)) {
    ticks.push_back(lo);
    return ticks;
  }
  const double span = hi - lo;
  double best_step = 0;
  int best_score = 1 << 30;
  for (int k = static_cast<int>(std::floor(std::log10(span))) - 2; k <= static_cast<int>(std::floor(std::log10(span))) + 1; ++k)
    for (int m : {1, 2, 5}) {
      const double s = m * std::pow(10.0, k);
      const double count = std::floor(hi / s + 1e-9) - std::ceil(lo / s - 1e-9) + 1;
      const int score = (count >= 4 && count <= 6) ? static_cast<int>(std::fabs(count - 5))
                                                     : 10 + static_cast<int>(std::fabs(count - 5));
      if (score < best_score) {
        best_score = score;
        best_step = s;
        exponent = k;
      }
    }
  for (double i = std::ceil(lo / best_step - 1e-9); i <= std::floor(hi / best_step + 1e-9); i += 1) ticks.push_back(i * best_step);
  return ticks;
}

/// Compact label using only digits, '.', '-', '+', 'e'.
std::string format_tick(double v, int exponent, double max_abs) {
  char buf[48];
  if (v == 0) return "0";
  if (max_abs >= 1e6 || max_abs < 1e-3)
    std::snprintf(buf, sizeof buf, "%.3g", v);
  else
    std::snprintf(buf, sizeof buf, "%.*f", std::max(0, -exponent), v);
  std::string s = buf;
  if (s == "-0") s = "0";
  return s;
}

void check_map_shape(long long rows, long long cols, std::size_t n, const char* what) {
  if (rows <= 0 || cols <= 0 || rows > Image::kMaxSide || cols > Image::kMaxSide)
    throw InvalidArgument(std::string(what) + ": map shape " + std::to_string(rows) + " x " + std::to_string(cols) +
                          " is out of range (each side 1.." + std::to_string(Image::kMaxSide) + ")");
  if (static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols) != n)
    throw InvalidArgument(std::string(what) + ": " + std::to_string(n) + " values for a " + std::to_string(rows) +
                          " x " + std::to_string(cols) + " map");
}

Rgba8 color_of(double v, double lo, double hi, const Rgba8& nan_color) {
  if (!std::isfinite(v)) return nan_color;
  const double u = hi > lo ? (v - lo) / (hi - lo) : 0.0;
  const Rgb8 c = viridis(u);
  return {c[0], c[1], c[2], 255};
}

}  // namespace

// =========================================================================================================
// Image

Image::Image(int w, int h, int ch, std::array<std::uint8_t, 4> fill) : width(w), height(h), channels(ch) {
  if (w < 1 || h < 1 || w > kMaxSide || h > kMaxSide || (ch != 3 && ch != 4))
    throw InvalidArgument("png: image " + std::to_string(w) + " x " + std::to_string(h) + " with " +
                          std::to_string(ch) + " channels is invalid (sides 1.." + std::to_string(kMaxSide) +
                          ", channels 3 or 4)");
  pixels.resize(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * static_cast<std::size_t>(ch));
  for (std::size_t i = 0; i < pixels.size(); i += static_cast<std::size_t>(ch))
    for (int k = 0; k < ch; ++k) pixels[i + static_cast<std::size_t>(k)] = fill[static_cast<std::size_t>(k)];
}

void Image::validate() const {
  if (width < 1 || height < 1 || width > kMaxSide || height > kMaxSide)
    throw InvalidArgument("png: image size " + std::to_string(width) + " x " + std::to_string(height) +
                          " is out of range (each side 1.." + std::to_string(kMaxSide) + ")");
  if (channels != 3 && channels != 4)
    throw InvalidArgument("png: channels must be 3 (RGB) or 4 (RGBA), got " + std::to_string(channels));
  const std::size_t want = static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                           static_cast<std::size_t>(channels);
  if (pixels.size() != want)
    throw InvalidArgument("png: pixels holds " + std::to_string(pixels.size()) + " bytes but a " +
                          std::to_string(width) + " x " + std::to_string(height) + " x " + std::to_string(channels) +
                          " image needs " + std::to_string(want));
}

// =========================================================================================================
// Encode / decode

std::string encode(const Image& image, const std::vector<TextChunk>& text) {
  image.validate();
  for (const auto& t : text) {
    check_keyword(t.key);
    if (t.text.find('\0') != std::string::npos)
      throw InvalidArgument("png: text of keyword '" + t.key + "' contains a NUL character");
  }
  std::vector<png_text> chunks(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::memset(&chunks[i], 0, sizeof(png_text));
    // tEXt is Latin-1; anything beyond ASCII (UTF-8 labels such as "χ²") goes into an uncompressed iTXt chunk
    chunks[i].compression = is_ascii(text[i].text) ? PNG_TEXT_COMPRESSION_NONE : PNG_ITXT_COMPRESSION_NONE;
    chunks[i].key = const_cast<char*>(text[i].key.c_str());
    chunks[i].text = const_cast<char*>(text[i].text.c_str());
    chunks[i].text_length = chunks[i].compression == PNG_TEXT_COMPRESSION_NONE ? text[i].text.size() : 0;
    chunks[i].itxt_length = chunks[i].compression == PNG_ITXT_COMPRESSION_NONE ? text[i].text.size() : 0;
    chunks[i].lang = const_cast<char*>("");
    chunks[i].lang_key = const_cast<char*>("");
  }
  std::vector<png_bytep> rows(static_cast<std::size_t>(image.height));
  const std::size_t stride = static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.channels);
  for (int y = 0; y < image.height; ++y)
    rows[static_cast<std::size_t>(y)] = const_cast<png_bytep>(image.pixels.data() + static_cast<std::size_t>(y) * stride);

  std::string out;
  out.reserve(stride * static_cast<std::size_t>(image.height) / 4 + 1024);
  WriteState st;
  st.out = &out;
  if (!encode_raw(image, chunks.empty() ? nullptr : chunks.data(), static_cast<int>(chunks.size()), rows.data(), st))
    throw NumericalError(std::string("png: libpng failed to encode a ") + std::to_string(image.width) + " x " +
                         std::to_string(image.height) + " image: " + st.error);
  return out;
}

void write_png(const std::filesystem::path& path, const Image& image, const std::vector<TextChunk>& text) {
  const std::string bytes = encode(image, text);  // encode fully before touching the file system
  write_file_atomic(path, std::string_view(bytes));
}

Image decode(const std::string& bytes, const std::string& what) {
  png_image im;
  std::memset(&im, 0, sizeof im);
  im.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&im, bytes.data(), bytes.size())) {
    const std::string msg = im.message;
    png_image_free(&im);
    throw ParseError(what, 0, "", "not a valid PNG (" + msg + ")");
  }
  if (im.width < 1 || im.height < 1 || im.width > static_cast<png_uint_32>(Image::kMaxSide) ||
      im.height > static_cast<png_uint_32>(Image::kMaxSide)) {
    png_image_free(&im);
    throw ParseError(what, 0, "", "PNG size " + std::to_string(im.width) + " x " + std::to_string(im.height) +
                                      " is beyond " + std::to_string(Image::kMaxSide) + " px per side");
  }
  im.format = PNG_FORMAT_RGBA;
  Image out(static_cast<int>(im.width), static_cast<int>(im.height), 4);
  if (!png_image_finish_read(&im, nullptr, out.pixels.data(), 0, nullptr)) {
    const std::string msg = im.message;
    png_image_free(&im);
    throw ParseError(what, 0, "", "corrupt PNG (" + msg + ")");
  }
  return out;
}

Image read_png(const std::filesystem::path& path) { return decode(read_file(path), path.string()); }

// =========================================================================================================
// Colour map

const std::array<std::array<double, 3>, 256>& viridis_table() { return kViridis; }

Rgb8 viridis(double u) {
  int i = 0;
  if (u >= 1.0)
    i = 255;
  else if (u > 0.0)
    i = std::min(255, static_cast<int>(u * 256.0));
  const auto& c = kViridis[static_cast<std::size_t>(i)];
  return {static_cast<std::uint8_t>(c[0] * 255.0), static_cast<std::uint8_t>(c[1] * 255.0),
          static_cast<std::uint8_t>(c[2] * 255.0)};
}

std::pair<double, double> percentile_range(std::span<const double> values, double lo_pct, double hi_pct) {
  if (!(lo_pct >= 0 && lo_pct <= 100) || !(hi_pct >= 0 && hi_pct <= 100))
    throw InvalidArgument("percentile_range: percentiles must lie in [0, 100] (got " + std::to_string(lo_pct) +
                          ", " + std::to_string(hi_pct) + ")");
  std::vector<double> v;
  v.reserve(values.size());
  for (double x : values)
    if (std::isfinite(x)) v.push_back(x);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (v.empty()) return {nan, nan};
  // numpy "linear": h = (n - 1) p / 100, value = a[floor h] + (h - floor h)(a[floor h + 1] - a[floor h])
  auto at = [&](double p) {
    const double h = static_cast<double>(v.size() - 1) * p / 100.0;
    const auto i = static_cast<std::size_t>(std::floor(h));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    const double a = v[i];
    if (i + 1 >= v.size()) return a;
    const double b = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(i) + 1, v.end());
    const double t = h - static_cast<double>(i);
    return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;  // numpy's _lerp, for identical rounding
  };
  const double lo = at(lo_pct);
  const double hi = at(hi_pct);
  return {lo, hi};
}

std::pair<double, double> resolve_range(std::span<const double> values, const ColorScale& scale) {
  bool any = false;
  for (double v : values)
    if (std::isfinite(v)) {
      any = true;
      break;
    }
  if (!any) throw InvalidArgument("map: no finite value to colour (all " + std::to_string(values.size()) + " are NaN/inf)");
  if (std::isinf(scale.vmin) || std::isinf(scale.vmax))
    throw InvalidArgument("map: vmin/vmax must be finite or NaN (automatic)");
  double lo = scale.vmin, hi = scale.vmax;
  if (std::isnan(lo) || std::isnan(hi)) {
    const auto [p1, p99] = percentile_range(values, 1, 99);
    if (std::isnan(lo)) lo = std::isnan(hi) ? p1 : std::min(p1, hi);
    if (std::isnan(hi)) hi = std::max(p99, lo);
  }
  if (lo > hi)
    throw InvalidArgument("map: vmin (" + std::to_string(lo) + ") is larger than vmax (" + std::to_string(hi) + ")");
  return {lo, hi};
}

Image colorize(std::span<const double> values, int rows, int cols, const ColorScale& scale) {
  check_map_shape(rows, cols, values.size(), "colorize");
  const auto [lo, hi] = resolve_range(values, scale);
  Image img(cols, rows, 4);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      const Rgba8 c = color_of(values[static_cast<std::size_t>(i) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(j)],
                               lo, hi, scale.nan_color);
      std::copy(c.begin(), c.end(), img.at(j, i));
    }
  return img;
}

namespace {
std::vector<double> row_major(const Eigen::MatrixXd& m) {
  std::vector<double> v(static_cast<std::size_t>(m.size()));
  Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(v.data(), m.rows(), m.cols()) = m;
  return v;
}
}  // namespace

Image colorize(const Eigen::MatrixXd& values, const ColorScale& scale) {
  check_map_shape(values.rows(), values.cols(), static_cast<std::size_t>(values.size()), "colorize");
  return colorize(row_major(values), static_cast<int>(values.rows()), static_cast<int>(values.cols()), scale);
}

Image render_map(const Eigen::MatrixXd& values, const MapImageOptions& options) {
  check_map_shape(values.rows(), values.cols(), static_cast<std::size_t>(values.size()), "render_map");
  const std::vector<double> v = row_major(values);
  const auto [lo, hi] = resolve_range(v, options.color);
  const int R = static_cast<int>(values.rows()), C = static_cast<int>(values.cols());
  int s = options.scale;
  if (s == 0) s = std::clamp(512 / std::max(R, C), 1, 64);
  if (s < 1 || s > 64) throw InvalidArgument("render_map: scale must be 0 (automatic) or 1..64 px per value, got " + std::to_string(options.scale));

  constexpr int kMargin = 10, kBarGap = 16, kBarW = 16, kTick = 4;
  const Rgba8 ink{68, 68, 68, 255}, white{255, 255, 255, 255};
  const long long mw = static_cast<long long>(C) * s, mh = static_cast<long long>(R) * s;

  // colour bar geometry and labels
  const long long bar_h = std::max<long long>(mh, 128);
  const int f = bar_h >= 200 ? 2 : 1;  // font scale
  int exponent = 0;
  std::vector<double> ticks;
  std::vector<std::string> labels;
  int label_w = 0;
  if (options.colorbar) {
    ticks = nice_ticks(lo, hi, exponent);
    double max_abs = 0;
    for (double t : ticks) max_abs = std::max(max_abs, std::fabs(t));
    // thin out labels that would touch
    const double px_per_tick = ticks.size() > 1 && hi > lo ? (ticks[1] - ticks[0]) / (hi - lo) * static_cast<double>(bar_h - 1) : 1e9;
    const std::size_t stride = px_per_tick >= (kGlyphH + 3) * f ? 1 : static_cast<std::size_t>(std::ceil((kGlyphH + 3) * f / px_per_tick));
    std::vector<double> kept;
    for (std::size_t i = 0; i < ticks.size(); i += stride) kept.push_back(ticks[i]);
    ticks = kept;
    for (double t : ticks) {
      labels.push_back(format_tick(t, exponent, max_abs));
      label_w = std::max(label_w, text_width(labels.back(), f));
    }
  }
  const long long W = options.colorbar ? kMargin + mw + kBarGap + kBarW + kTick + 3 + label_w + kMargin : 2LL * kMargin + mw;
  // half a label height above and below the bar so the end labels stay inside the image
  const int pad = options.colorbar ? (kGlyphH * f + 1) / 2 : 0;
  const long long H = 2LL * (kMargin + pad) + (options.colorbar ? std::max(mh, bar_h) : mh);
  if (W > Image::kMaxSide || H > Image::kMaxSide)
    throw InvalidArgument("render_map: a " + std::to_string(R) + " x " + std::to_string(C) + " map at " +
                          std::to_string(s) + " px per value needs a " + std::to_string(W) + " x " + std::to_string(H) +
                          " px image (limit " + std::to_string(Image::kMaxSide) + ")");
  Image img(static_cast<int>(W), static_cast<int>(H), 4, white);

  // map
  const int top = kMargin + pad;
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < C; ++j)
      fill_rect(img, kMargin + j * s, top + i * s, s, s, color_of(v[static_cast<std::size_t>(i) * C + j], lo, hi, options.color.nan_color));
  outline(img, kMargin, top, static_cast<int>(mw), static_cast<int>(mh), ink);

  if (options.colorbar) {
    const int bx = static_cast<int>(kMargin + mw + kBarGap), bh = static_cast<int>(bar_h);
    // row y from the top: u = 1 at the top row, 0 at the bottom row
    for (int y = 0; y < bh; ++y) {
      const Rgb8 c = viridis(static_cast<double>(bh - 1 - y) / static_cast<double>(bh - 1));
      fill_rect(img, bx, top + y, kBarW, 1, {c[0], c[1], c[2], 255});
    }
    outline(img, bx, top, kBarW, bh, ink);
    for (std::size_t k = 0; k < ticks.size(); ++k) {
      const double u = hi > lo ? (ticks[k] - lo) / (hi - lo) : 0.0;
      const int y = top + static_cast<int>(std::lround((1.0 - u) * (bh - 1)));
      fill_rect(img, bx + kBarW + 1, y, kTick, 1, ink);
      draw_text(img, bx + kBarW + 1 + kTick + 2, y - (kGlyphH * f) / 2, labels[k], f, ink);
    }
  }
  return img;
}

}  // namespace tsunagu::core::png
