#pragma once
/// CIF 1.1 reader: tokenizer (data_ blocks, loop_, '…' / "…" quoted strings, ;-delimited text fields, comments,
/// '.' (inapplicable) and '?' (unknown) values, numbers with standard uncertainties "5.4321(3)"), and the
/// crystallographic interpretation: cell, symmetry operations, and expansion of the asymmetric unit.
///
/// Symmetry comes from `_space_group_symop_operation_xyz` or `_symmetry_equiv_pos_as_xyz` ("-x+1/2, y, z+1/2",
/// parsed as linear terms by parse_symop, never evaluated as code); without such a loop from
/// `_space_group_name_Hall` / `_symmetry_space_group_name_Hall`, `_space_group_name_H-M_alt` /
/// `_symmetry_space_group_name_H-M`, or `_space_group_IT_number` / `_symmetry_Int_Tables_number`, through spglib's
/// database. Every error is a ParseError "FILE:LINE: TAG: message".
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tsunagu/structure/crystal.hpp"
#include "tsunagu/structure/symmetry.hpp"

namespace tsunagu::structure {

/// One value of a CIF file: its text (quotes removed), where it was, and whether it was quoted (a quoted '?' is a
/// question mark, not "unknown").
struct CifValue {
  std::string text;
  std::size_t line = 0;  ///< 1-based
  bool quoted = false;
  bool missing() const noexcept { return !quoted && (text == "?" || text == "."); }
};

struct CifLoop {
  std::vector<std::string> tags;              ///< lower-case tags, in order
  std::vector<std::vector<CifValue>> rows;    ///< rows[i][j] = value of tags[j] in packet i
  std::size_t line = 0;                       ///< line of loop_
};

struct CifBlock {
  std::string name;       ///< after data_ (case kept)
  std::size_t line = 0;   ///< line of data_NAME
  std::map<std::string, CifValue> items;  ///< lower-case tag -> value, for tags outside loops
  std::vector<CifLoop> loops;
  /// Value of a non-looped tag (lower-case lookup), or nullptr.
  const CifValue* find(std::string_view tag) const;
  /// Loop that contains the tag, or nullptr; `column` receives the tag's index.
  const CifLoop* find_loop(std::string_view tag, std::size_t* column = nullptr) const;
};

/// Tokenise and group a CIF file into data blocks (global_ and save_ frames are skipped). ParseError on
/// unterminated quotes/text fields, values outside a block, a loop whose values do not fill whole packets.
std::vector<CifBlock> parse_cif_blocks(std::string_view text, const std::string& source = "<string>");

/// Number from a CIF value: "5.4321(3)" -> 5.4321, "-.5" -> -0.5, "1e-3" -> 0.001. nullopt for '?', '.', or text
/// that is not a number.
std::optional<double> cif_number(const CifValue& value);

/// Parse a symmetry operation in xyz notation: "-x+1/2, y, z+1/2", "x-y,x,-z+0.5", "1/2+X", "-y+x,2z,..." The
/// three components are sums of terms ±[integer]·{x|y|z} and ±p/q or ±decimal constants; anything else
/// ("x+y*z", "sin(x)", "0.5x") throws InvalidArgument naming the text. The rotation must have |det| = 1.
SymOp parse_symop(std::string_view text);

struct CifOptions {
  std::string block;             ///< data block to read (name after data_, case-insensitive); empty = the first
  double merge_tolerance = 0.01; ///< Å: images of one asymmetric-unit site closer than this are one site
  double min_distance = 0.5;     ///< Å: Crystal::validate's overlap check (0 disables)
};

/// Interpret one block: cell (standard orientation, see lattice_from_parameters), operations, expansion of every
/// asymmetric-unit site (wrapped into [0,1), images merged within merge_tolerance), labels from _atom_site_label,
/// element from _atom_site_type_symbol (else from the label), occupancy from _atom_site_occupancy (default 1).
Crystal crystal_from_cif_block(const CifBlock& block, const std::string& source = "<string>",
                               const CifOptions& options = {});

/// Parse CIF text and interpret the chosen block.
Crystal parse_cif(std::string_view text, const std::string& source = "<string>", const CifOptions& options = {});
/// Read a CIF file; IoError if it cannot be read.
Crystal read_cif(const std::filesystem::path& path, const CifOptions& options = {});

/// The operations a block declares (explicit loop, else from a space-group name/number); ParseError when neither.
std::vector<SymOp> cif_operations(const CifBlock& block, const std::string& source = "<string>");

}  // namespace tsunagu::structure
