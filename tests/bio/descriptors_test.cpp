// Truth: (1) hand-checked small molecules (counts worked out on paper in the comments); (2) golden numbers from
// RDKit's own Python API on 28 molecules (tests/bio/golden/descriptors.csv, scripts/make_bio_golden.py, RDKit
// version in its header comment): the RDKit functions, canonical SMILES, SMARTS match counts and Morgan bits, plus
// an independent Python implementation of tsunagu's own definitions (eg_units, charges, chain_length by brute-force
// path enumeration); (3) the RDKit-derived columns of ../shared/data/bio/esol.csv when present.
#include "tsunagu/bio/descriptors.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/table.hpp"

// RDKit's log initialisation (what `import rdkit` does in Python); declared here because RDKit's headers are private
// to tsunagu::bio. Its library is linked through tsunagu::bio.
namespace RDLog {
void InitLogs();
}

using namespace tsunagu;
using namespace tsunagu::bio;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string invalid_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

std::string parse_error_of(const json& j) {
  try {
    DescriptorOptions::from_json(j);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

/// Named physico-chemical descriptors of one molecule (default options).
std::map<std::string, double> physchem(const std::string& smiles) {
  const Eigen::VectorXd v = describe_smiles(smiles, DescriptorOptions{});
  std::map<std::string, double> out;
  const auto& names = physchem_names();
  for (std::size_t k = 0; k < names.size(); ++k) out[names[k]] = v(static_cast<Eigen::Index>(k));
  return out;
}

double pc(const std::string& smiles, const std::string& name) { return physchem(smiles).at(name); }

bool close_rel(double a, double b, double rel = 1e-9) { return std::abs(a - b) <= rel * std::max(1.0, std::abs(b)); }

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) out.push_back(item);
  return out;
}

const fs::path kGolden = fs::path(TSUNAGU_SOURCE_DIR) / "tests/bio/golden";

core::Table golden() { return core::read_csv(kGolden / "descriptors.csv"); }

std::vector<SmartsPattern> golden_smarts() {
  const core::Table t = core::read_csv(kGolden / "smarts.csv");
  std::vector<SmartsPattern> out;
  for (const auto& row : t.rows) out.push_back({row[0], row[1]});
  return out;
}

}  // namespace

// ------------------------------------------------------------------------------------------------------ names

TEST(Names, physchem_then_smarts_then_morgan) {
  const std::vector<std::string> expected = {
      "hbd",        "hba",         "tpsa",  "logp",           "molar_refractivity", "rotatable_bonds",
      "mol_weight", "heavy_atoms", "rings", "aromatic_rings", "fraction_csp3",      "eg_units",
      "cationic",   "anionic",     "zwitterionic", "net_charge", "chain_length"};
  EXPECT_EQ(physchem_names(), expected);
  DescriptorOptions o;
  EXPECT_EQ(descriptor_names(o), expected);
  o.smarts = {{"amide", "C(=O)N"}, {"oh", "[OX2H]"}};
  o.morgan_bits = 64;
  const auto names = descriptor_names(o);
  ASSERT_EQ(names.size(), expected.size() + 2 + 64);
  EXPECT_EQ(names[expected.size()], "smarts_amide");
  EXPECT_EQ(names[expected.size() + 1], "smarts_oh");
  EXPECT_EQ(names[expected.size() + 2], "morgan_0");
  EXPECT_EQ(names.back(), "morgan_63");
  o.physchem = false;
  EXPECT_EQ(descriptor_names(o).front(), "smarts_amide");
  EXPECT_EQ(describe_smiles("CC(=O)NC", o).size(), 2 + 64);
}

// ------------------------------------------------------------------------------------------------ hand-checked

TEST(HandChecked, ethanol) {
  const auto d = physchem("CCO");
  EXPECT_EQ(d.at("hbd"), 1);  // O–H
  EXPECT_EQ(d.at("hba"), 1);  // O
  EXPECT_NEAR(d.at("tpsa"), 20.23, 1e-12);  // Ertl: hydroxyl oxygen 20.23 Å²
  EXPECT_NEAR(d.at("mol_weight"), 2 * 12.011 + 6 * 1.008 + 15.999, 1e-9);  // C2H6O, RDKit's atomic weights
  EXPECT_EQ(d.at("heavy_atoms"), 3);
  EXPECT_EQ(d.at("rotatable_bonds"), 0);  // C–O to a terminal heavy atom is not rotatable
  EXPECT_EQ(d.at("rings"), 0);
  EXPECT_EQ(d.at("fraction_csp3"), 1);
  EXPECT_EQ(d.at("eg_units"), 0);  // CH3 is not CH2, and there is no second oxygen
  EXPECT_EQ(d.at("chain_length"), 2);  // CH3–CH2(OH): the carbon bearing O may end the chain
  EXPECT_EQ(d.at("cationic") + d.at("anionic") + d.at("zwitterionic") + d.at("net_charge"), 0);
}

TEST(HandChecked, ethylene_glycol_units_worked_examples) {
  // eg_units = unique matches of [OX2][CH2X4][CH2X4][OX2]: one per CH2–CH2 with a divalent O on each carbon.
  EXPECT_EQ(pc("OCCOCCOCCOCCO", "eg_units"), 4);  // tetra(ethylene glycol) HO(CH2CH2O)4H
  EXPECT_EQ(pc("OCCO", "eg_units"), 1);           // ethylene glycol itself
  EXPECT_EQ(pc("OCCOCCO", "eg_units"), 2);        // diethylene glycol
  EXPECT_EQ(pc("COCCOCCOCCOC", "eg_units"), 3);   // triglyme CH3O(CH2CH2O)3CH3
  EXPECT_EQ(pc("OCCOCCOCCOCCOCCOCCO", "eg_units"), 6);  // hexa(ethylene glycol)
  EXPECT_EQ(pc("SCCCCCCCCCCCOCCOCCOCCO", "eg_units"), 3);  // HS(CH2)11(OCH2CH2)3OH, the EG3-OH SAM thiol
  EXPECT_EQ(pc("C=C(C)C(=O)OCCOC(=O)C(C)=C", "eg_units"), 1);  // EG dimethacrylate: ester oxygens count
  EXPECT_EQ(pc("C1COCCO1", "eg_units"), 2);       // 1,4-dioxane: ring units count too
  EXPECT_EQ(pc("C1COCCOCCOCCOCCOCCO1", "eg_units"), 6);  // 18-crown-6
  EXPECT_EQ(pc("CCOCC", "eg_units"), 0);          // diethyl ether: CH3 ends
  EXPECT_EQ(pc("OCCCO", "eg_units"), 0);          // 1,3-propanediol: no O–C–C–O
  EXPECT_EQ(pc("NCCO", "eg_units"), 0);           // ethanolamine
  EXPECT_EQ(pc("OC(C)CO", "eg_units"), 0);        // propylene glycol: CH, not CH2
  const auto teg = physchem("OCCOCCOCCOCCO");
  EXPECT_EQ(teg.at("hbd"), 2);
  EXPECT_EQ(teg.at("hba"), 5);
  EXPECT_EQ(teg.at("heavy_atoms"), 13);
  EXPECT_EQ(teg.at("chain_length"), 2);  // each CH2–CH2 is cut off by ether oxygens
}

TEST(HandChecked, dodecanethiol) {
  const auto d = physchem("CCCCCCCCCCCCS");
  EXPECT_EQ(d.at("chain_length"), 12);
  EXPECT_EQ(d.at("heavy_atoms"), 13);
  EXPECT_EQ(d.at("rotatable_bonds"), 10);  // 12 C + S in a line: 12 bonds, minus the terminal CH3–C and C–SH
  EXPECT_EQ(d.at("eg_units"), 0);
  EXPECT_EQ(d.at("tpsa"), 0);  // S is left out of TPSA by default (as RDKit's CalcTPSA)
  EXPECT_NEAR(d.at("mol_weight"), 12 * 12.011 + 26 * 1.008 + 32.067, 1e-9);  // C12H26S
}

TEST(HandChecked, betaine_is_zwitterionic) {
  const auto d = physchem("C[N+](C)(C)CC(=O)[O-]");
  EXPECT_EQ(d.at("cationic"), 1);
  EXPECT_EQ(d.at("anionic"), 1);
  EXPECT_EQ(d.at("zwitterionic"), 1);
  EXPECT_EQ(d.at("net_charge"), 0);
  EXPECT_EQ(d.at("chain_length"), 1);  // N-methyls and the CH2 next to N+ and C=O: nothing longer than one carbon
  // Glycine: neutral form is not charged (formal charges only, no pKa model); the zwitterion is.
  EXPECT_EQ(pc("NCC(=O)O", "zwitterionic"), 0);
  EXPECT_EQ(pc("NCC(=O)O", "cationic"), 0);
  EXPECT_EQ(pc("[NH3+]CC(=O)[O-]", "zwitterionic"), 1);
  // Sulfobetaine and phosphorylcholine monomers.
  EXPECT_EQ(pc("C=C(C)C(=O)OCC[N+](C)(C)CCCS(=O)(=O)[O-]", "zwitterionic"), 1);
  EXPECT_EQ(pc("CC(=C)C(=O)OCCOP(=O)([O-])OCC[N+](C)(C)C", "zwitterionic"), 1);
}

TEST(HandChecked, sodium_dodecyl_sulfate_counter_ion_left_out) {
  const auto salt = physchem("CCCCCCCCCCCCOS(=O)(=O)[O-].[Na+]");
  const auto anion = physchem("CCCCCCCCCCCCOS(=O)(=O)[O-]");
  for (const auto* d : {&salt, &anion}) {
    EXPECT_EQ(d->at("anionic"), 1);
    EXPECT_EQ(d->at("cationic"), 0);  // Na+ is a monatomic counter-ion
    EXPECT_EQ(d->at("zwitterionic"), 0);
    EXPECT_EQ(d->at("net_charge"), -1);
    EXPECT_EQ(d->at("chain_length"), 12);  // the CH2 bonded to the sulfate oxygen ends the chain
  }
  // The whole-molecule RDKit descriptors do include the counter-ion (as in Python).
  EXPECT_NEAR(salt.at("mol_weight") - anion.at("mol_weight"), 22.99, 1e-9);
  EXPECT_EQ(salt.at("heavy_atoms") - anion.at("heavy_atoms"), 1);
  // CTAB: the bromide is left out, the ammonium counted; calcium acetate: two anionic sites, Ca2+ left out.
  const auto ctab = physchem("CCCCCCCCCCCCCCCC[N+](C)(C)C.[Br-]");
  EXPECT_EQ(ctab.at("cationic"), 1);
  EXPECT_EQ(ctab.at("anionic"), 0);
  EXPECT_EQ(ctab.at("net_charge"), 1);
  EXPECT_EQ(ctab.at("chain_length"), 16);
  EXPECT_EQ(pc("CC(=O)[O-].CC(=O)[O-].[Ca+2]", "anionic"), 2);
  EXPECT_EQ(pc("CC(=O)[O-].CC(=O)[O-].[Ca+2]", "net_charge"), -2);
}

TEST(HandChecked, carboxylic_acid_and_carboxylate) {
  const auto acid = physchem("CCCC(=O)O");  // butyric acid
  EXPECT_EQ(acid.at("hbd"), 1);
  EXPECT_EQ(acid.at("anionic"), 0);  // the neutral acid is not anionic (formal charge only)
  EXPECT_EQ(acid.at("chain_length"), 3);  // the carboxyl carbon is sp2
  EXPECT_NEAR(acid.at("tpsa"), 17.07 + 20.23, 1e-12);  // C=O 17.07 + O–H 20.23
  const auto anion = physchem("CCCC(=O)[O-]");
  EXPECT_EQ(anion.at("anionic"), 1);
  EXPECT_EQ(anion.at("net_charge"), -1);
  EXPECT_EQ(anion.at("hbd"), 0);
  EXPECT_EQ(pc("CCCCCCCCCCCCCCCCCC(=O)O", "chain_length"), 17);  // stearic acid: 17 sp3 carbons
}

TEST(HandChecked, benzene) {
  const auto d = physchem("c1ccccc1");
  EXPECT_EQ(d.at("rings"), 1);
  EXPECT_EQ(d.at("aromatic_rings"), 1);
  EXPECT_EQ(d.at("chain_length"), 0);
  EXPECT_EQ(d.at("fraction_csp3"), 0);
  EXPECT_EQ(d.at("tpsa"), 0);
  EXPECT_EQ(d.at("hbd") + d.at("hba") + d.at("rotatable_bonds"), 0);
  EXPECT_EQ(d.at("heavy_atoms"), 6);
  EXPECT_NEAR(d.at("mol_weight"), 6 * 12.011 + 6 * 1.008, 1e-9);
}

TEST(HandChecked, charge_separated_groups_are_not_ionic) {
  // Nitro as [N+](=O)[O-] and as the pentavalent N(=O)=O (RDKit's sanitisation rewrites it to the former):
  // the bonded +/- pair cancels. N-oxide and azide likewise.
  for (const std::string s : {"c1ccc(cc1)[N+](=O)[O-]", "c1ccc(cc1)N(=O)=O", "C[N+](C)(C)[O-]", "CN=[N+]=[N-]"}) {
    const auto d = physchem(s);
    EXPECT_EQ(d.at("cationic"), 0) << s;
    EXPECT_EQ(d.at("anionic"), 0) << s;
    EXPECT_EQ(d.at("zwitterionic"), 0) << s;
    EXPECT_EQ(d.at("net_charge"), 0) << s;
  }
  // Nitrate: N+ cancels one of its two O-, the other stays anionic (net -1).
  EXPECT_EQ(pc("[O-][N+](=O)[O-]", "anionic"), 1);
  EXPECT_EQ(pc("[O-][N+](=O)[O-]", "net_charge"), -1);
}

TEST(HandChecked, chain_length_worked_examples) {
  EXPECT_EQ(pc("C", "chain_length"), 1);
  EXPECT_EQ(pc("CO", "chain_length"), 1);
  EXPECT_EQ(pc("OCCO", "chain_length"), 2);         // two end-only carbons side by side
  EXPECT_EQ(pc("OCCCCCCCCCCCS", "chain_length"), 11);  // HS(CH2)11OH: both ends carry the heteroatoms
  EXPECT_EQ(pc("CCCCCCc1ccccc1", "chain_length"), 6);  // hexylbenzene: the benzylic CH2 is bonded to C only
  EXPECT_EQ(pc("C1CCCCC1", "chain_length"), 0);     // ring carbons never count
  EXPECT_EQ(pc("CC(C)CCC", "chain_length"), 5);     // 2-methylpentane: the longest path
  EXPECT_EQ(pc("CC(C)(C)C", "chain_length"), 3);    // neopentane
  EXPECT_EQ(pc("C=CCCCCCCCCCC", "chain_length"), 10);  // 1-dodecene: the two sp2 carbons do not count
  EXPECT_EQ(pc("CCCCCCCCCCCC[n+]1ccccc1", "chain_length"), 12);
  EXPECT_EQ(pc("CCCCCCCCCCCCN(C)CCCCCCCC", "chain_length"), 12);  // N cannot be crossed
  EXPECT_EQ(pc("OCC(O)CO", "chain_length"), 2);     // glycerol: the CH(OH) cannot be interior
  // Fluorocarbon segments are not hydrophobic chain in this definition (carbons bonded to F are end-only).
  EXPECT_EQ(pc("OC(=O)C(F)(F)C(F)(F)C(F)(F)C(F)(F)C(F)(F)C(F)(F)C(F)(F)F", "chain_length"), 2);
  // Long chains: no recursion-depth problem (RDKit's SMILES parser is cubic in chain length: 2000 carbons take 6 s).
  EXPECT_EQ(pc(std::string(400, 'C'), "chain_length"), 400);
}

// ------------------------------------------------------------------------------------------------ golden numbers

TEST(Golden, physchem_canonical_and_smarts_match_rdkit_python) {
  const core::Table g = golden();
  ASSERT_GE(g.n_rows(), 20u);
  DescriptorOptions o;
  o.smarts = golden_smarts();
  const auto names = descriptor_names(o);
  const std::vector<std::string> smiles = g.text_column("smiles");
  const MoleculeDescriptors m = describe_many(smiles, o);
  ASSERT_EQ(m.rows.size(), g.n_rows());
  const std::vector<std::string> canonical = g.text_column("canonical");
  const std::vector<std::string> molecule = g.text_column("name");
  for (std::size_t j = 0; j < names.size(); ++j) {
    const core::NumericData truth = g.numeric({names[j]});
    for (std::size_t i = 0; i < g.n_rows(); ++i) {
      const double ours = m.X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j));
      const double theirs = truth.values(static_cast<Eigen::Index>(i), 0);
      EXPECT_TRUE(close_rel(ours, theirs)) << molecule[i] << " " << names[j] << ": " << ours << " vs RDKit Python "
                                           << theirs;
    }
  }
  for (std::size_t i = 0; i < g.n_rows(); ++i) {
    EXPECT_EQ(m.canonical[i], canonical[i]) << molecule[i];
    EXPECT_EQ(canonical_smiles(smiles[i]), canonical[i]) << molecule[i];
  }
}

TEST(Golden, morgan_bits_match_rdkit_python) {
  const core::Table g = golden();
  const std::vector<std::string> smiles = g.text_column("smiles");
  for (const auto& [radius, bits] : std::vector<std::pair<int, int>>{{2, 2048}, {1, 64}, {3, 1024}}) {
    DescriptorOptions o;
    o.physchem = false;
    o.morgan_radius = radius;
    o.morgan_bits = bits;
    const MoleculeDescriptors m = describe_many(smiles, o);
    const std::vector<std::string> on =
        g.text_column("morgan_r" + std::to_string(radius) + "_" + std::to_string(bits));
    for (std::size_t i = 0; i < smiles.size(); ++i) {
      Eigen::RowVectorXd expected = Eigen::RowVectorXd::Zero(bits);
      for (const std::string& b : split(on[i], ';')) expected(std::stoi(b)) = 1;
      EXPECT_EQ(m.X.row(static_cast<Eigen::Index>(i)), expected) << smiles[i] << " radius " << radius << " bits " << bits;
    }
  }
}

TEST(Golden, every_spelling_of_a_molecule_gives_the_identical_row) {
  const core::Table g = golden();
  DescriptorOptions o;
  o.smarts = golden_smarts();
  o.morgan_bits = 2048;
  const std::vector<std::string> a = g.text_column("smiles"), b = g.text_column("smiles_random");
  std::size_t differently_spelled = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    differently_spelled += a[i] != b[i] ? 1 : 0;
    const Eigen::VectorXd x = describe_smiles(a[i], o), y = describe_smiles(b[i], o);
    EXPECT_TRUE(x == y) << a[i] << " vs " << b[i] << ": max difference " << (x - y).cwiseAbs().maxCoeff();
    EXPECT_EQ(canonical_smiles(a[i]), canonical_smiles(b[i]));
  }
  EXPECT_GE(differently_spelled, a.size() - 3);
  // Amygdalin: two spellings whose atom-order sums (logP, TPSA) differ in the last bits before canonical renumbering.
  const Eigen::VectorXd x = describe_smiles("OCC3OC(OCC2OC(OC(C#N)c1ccccc1)C(O)C(O)C2O)C(O)C(O)C3O", o);
  const Eigen::VectorXd y = describe_smiles("N#CC(OC1OC(COC2OC(CO)C(O)C(O)C2O)C(O)C(O)C1O)c1ccccc1", o);
  EXPECT_TRUE(x == y);
}

// ------------------------------------------------------------------------------------------------ bad input

TEST(BadInput, unparseable_smiles_one_line_naming_it) {
  const DescriptorOptions o;
  EXPECT_EQ(invalid_of([&] { describe_smiles("C1CC", o); }), "unparseable SMILES 'C1CC' (unclosed ring bond 1)");
  EXPECT_EQ(invalid_of([&] { describe_smiles("xx", o); }), "unparseable SMILES 'xx'");
  EXPECT_EQ(invalid_of([&] { describe_smiles("CC(C", o); }), "unparseable SMILES 'CC(C' (unclosed '(')");
  EXPECT_EQ(invalid_of([&] { describe_smiles("C[NH3+", o); }), "unparseable SMILES 'C[NH3+' (unclosed '[')");
  EXPECT_EQ(invalid_of([&] { describe_smiles("", o); }), "unparseable SMILES '' (empty)");
  EXPECT_EQ(invalid_of([&] { describe_smiles("   ", o); }), "unparseable SMILES '   ' (empty)");
  EXPECT_EQ(invalid_of([&] { describe_smiles("CC O", o); }),
            "unparseable SMILES 'CC O' (contains whitespace; CXSMILES extensions and names are not read)");
  // Sanitisation failures carry RDKit's own reason.
  EXPECT_EQ(invalid_of([&] { describe_smiles("CC(C)(C)(C)(C)C", o); }),
            "unparseable SMILES 'CC(C)(C)(C)(C)C' (Explicit valence for atom # 1 C, 6, is greater than permitted)");
  EXPECT_EQ(invalid_of([&] { describe_smiles("c1cccc1", o); }).rfind("unparseable SMILES 'c1cccc1' (Can't kekulize", 0),
            0u);
  // A cell with a newline (a quoted CSV cell) still gives one line; long SMILES are shortened.
  const std::string msg = invalid_of([&] { describe_smiles("C1\nCC", o); });
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  const std::string long_bad = std::string(500, 'C') + "1";
  EXPECT_LT(invalid_of([&] { describe_smiles(long_bad, o); }).size(), 160u);
  // Leading/trailing blanks are ignored.
  EXPECT_EQ(describe_smiles("  CCO\t", o), describe_smiles("CCO", o));
}

TEST(BadInput, rdkit_logs_stay_silent_even_when_initialised) {
  RDLog::InitLogs();  // as in a process that imported rdkit: RDKit would now print parse errors to stderr
  testing::internal::CaptureStderr();
  EXPECT_FALSE(invalid_of([] { describe_smiles("C1CC", DescriptorOptions{}); }).empty());
  EXPECT_FALSE(invalid_of([] { describe_smiles("CC(C)(C)(C)(C)C", DescriptorOptions{}); }).empty());
  EXPECT_FALSE(invalid_of([] { describe_many({"CCO", "xx"}, DescriptorOptions{}); }).empty());
  EXPECT_FALSE(invalid_of([] { parse_smarts_arg("bad=C(=O"); }).empty());
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(BadInput, describe_many_names_the_first_bad_row_whatever_the_threads) {
  const std::vector<std::string> smiles = {"CCO", "c1ccccc1", "C1CC", "CCN", "xx", "CCCl"};
  for (unsigned threads : {1u, 2u, 3u, 8u}) {
    DescriptorOptions o;
    o.threads = threads;
    EXPECT_EQ(invalid_of([&] { describe_many(smiles, o); }),
              "row 2: unparseable SMILES 'C1CC' (unclosed ring bond 1)")
        << threads;
    const MoleculeDescriptors m = describe_many(smiles, o, true);
    EXPECT_EQ(m.rows, (std::vector<std::size_t>{0, 1, 3, 5}));
    EXPECT_EQ(m.canonical, (std::vector<std::string>{"CCO", "c1ccccc1", "CCN", "CCCl"}));
    ASSERT_EQ(m.excluded.size(), 2u);
    EXPECT_EQ(m.excluded[0].row, 2u);
    EXPECT_EQ(m.excluded[0].smiles, "C1CC");
    EXPECT_EQ(m.excluded[0].reason, "unparseable SMILES 'C1CC' (unclosed ring bond 1)");
    EXPECT_EQ(m.excluded[1].row, 4u);
    ASSERT_EQ(m.X.rows(), 4);
    EXPECT_EQ(Eigen::VectorXd(m.X.row(2).transpose()), describe_smiles("CCN", o));
  }
  // Every row bad: an empty result, not an error.
  const MoleculeDescriptors none = describe_many({"xx", ""}, DescriptorOptions{}, true);
  EXPECT_EQ(none.X.rows(), 0);
  EXPECT_EQ(none.excluded.size(), 2u);
  EXPECT_EQ(describe_many({}, DescriptorOptions{}).X.rows(), 0);
}

TEST(BadInput, smarts_arguments_and_options_name_the_field) {
  const SmartsPattern p = parse_smarts_arg("amide=C(=O)N");
  EXPECT_EQ(p.name, "amide");
  EXPECT_EQ(p.smarts, "C(=O)N");
  EXPECT_EQ(parse_smarts_arg("dbl=C=C").smarts, "C=C");  // split at the first '='
  EXPECT_EQ(invalid_of([] { parse_smarts_arg("amide=C(=O"); }),
            "--smarts 'amide=C(=O': SMARTS 'C(=O' does not compile");
  EXPECT_EQ(invalid_of([] { parse_smarts_arg("amide"); }), "--smarts 'amide': expected NAME=SMARTS");
  EXPECT_EQ(invalid_of([] { parse_smarts_arg("amide="); }), "--smarts 'amide=': empty SMARTS");
  EXPECT_EQ(invalid_of([] { parse_smarts_arg("=C"); }),
            "--smarts '=C': NAME must be letters, digits or '_' (it becomes the column smarts_NAME)");
  EXPECT_NE(invalid_of([] { parse_smarts_arg("a-b=C"); }), "");

  DescriptorOptions o;
  o.smarts = {{"ok", "C"}, {"bad", "[C"}};
  EXPECT_EQ(invalid_of([&] { o.validate(); }), "smarts 'bad': SMARTS '[C' does not compile");
  EXPECT_EQ(invalid_of([&] { describe_smiles("CCO", o); }), "smarts 'bad': SMARTS '[C' does not compile");
  o.smarts = {{"x", "C"}, {"x", "O"}};
  EXPECT_EQ(invalid_of([&] { o.validate(); }), "smarts: name 'x' given twice");
  o.smarts = {{"a b", "C"}};
  EXPECT_EQ(invalid_of([&] { o.validate(); }),
            "smarts: name 'a b' must be letters, digits or '_' (column smarts_NAME)");
  o.smarts.clear();
  for (int bits : {100, 32, 8192, -64}) {
    o.morgan_bits = bits;
    EXPECT_EQ(invalid_of([&] { o.validate(); }),
              "morgan_bits: must be 0 or a power of two in 64..4096, got " + std::to_string(bits));
  }
  o.morgan_bits = 4096;
  EXPECT_EQ(invalid_of([&] { o.validate(); }), "");
  o.morgan_radius = -1;
  EXPECT_EQ(invalid_of([&] { o.validate(); }), "morgan_radius: must be in 0..10, got -1");
  DescriptorOptions empty;
  empty.physchem = false;
  EXPECT_EQ(invalid_of([&] { empty.validate(); }),
            "no descriptor columns: physchem is false, morgan_bits is 0 and no SMARTS was given");
}

TEST(Options, json_round_trip_and_refusals) {
  DescriptorOptions o;
  o.morgan_bits = 1024;
  o.morgan_radius = 3;
  o.smarts = {{"amide", "C(=O)N"}};
  o.threads = 2;
  const json j = o.to_json();
  EXPECT_EQ(DescriptorOptions::from_json(j), o);
  EXPECT_EQ(DescriptorOptions::from_json(json::object()), DescriptorOptions{});  // missing keys: defaults
  json bad = j;
  bad["radius"] = 2;
  EXPECT_EQ(parse_error_of(bad),
            "bio descriptor options: unknown field 'radius' (allowed: physchem, morgan_radius, morgan_bits, smarts, "
            "threads)");
  bad = j;
  bad["morgan_bits"] = 100;
  EXPECT_EQ(parse_error_of(bad),
            "bio descriptor options: morgan_bits: must be 0 or a power of two in 64..4096, got 100");
  bad = j;
  bad["physchem"] = 1;
  EXPECT_EQ(parse_error_of(bad), "bio descriptor options: field 'physchem': expected true or false, got 1");
  bad = j;
  bad["smarts"] = json::array({{{"name", "x"}, {"smarts", "[C"}}});
  EXPECT_EQ(parse_error_of(bad), "bio descriptor options: smarts 'x': SMARTS '[C' does not compile");
  bad = j;
  bad["smarts"] = json::array({"C"});
  EXPECT_NE(parse_error_of(bad), "");
  EXPECT_NE(parse_error_of(json::array()), "");
}

// ------------------------------------------------------------------------------------------------ mixtures

TEST(Mixture, composition_weighted_by_hand) {
  Eigen::MatrixXd w(3, 2), c(2, 2);
  w << 1, 1,  //
      3, 1,   //
      0, 2;
  c << 1, 10,  //
      3, 30;
  Eigen::MatrixXd expected(3, 2);
  expected << 2, 20,  // (1 + 3) / 2
      1.5, 15,        // 0.75 * 1 + 0.25 * 3
      3, 30;
  EXPECT_TRUE(mixture_descriptors(w, c).isApprox(expected, 1e-15));
  // A 1:1 coating of tetra(ethylene glycol) and ethanol: 2 EG units on average, zwitterionic fraction 0.5 with betaine.
  DescriptorOptions o;
  const MoleculeDescriptors m = describe_many({"OCCOCCOCCOCCO", "CCO", "C[N+](C)(C)CC(=O)[O-]"}, o);
  Eigen::MatrixXd mix(2, 3);
  mix << 0.5, 0.5, 0,  //
      0, 2, 2;
  const Eigen::MatrixXd d = mixture_descriptors(mix, m.X);
  const auto col = [](const char* name) {
    const auto& n = physchem_names();
    return static_cast<Eigen::Index>(std::find(n.begin(), n.end(), name) - n.begin());
  };
  EXPECT_DOUBLE_EQ(d(0, col("eg_units")), 2.0);
  EXPECT_DOUBLE_EQ(d(1, col("zwitterionic")), 0.5);
  EXPECT_DOUBLE_EQ(d(0, col("tpsa")), 0.5 * m.X(0, col("tpsa")) + 0.5 * m.X(1, col("tpsa")));
}

TEST(Mixture, bad_weights_are_named) {
  Eigen::MatrixXd c = Eigen::MatrixXd::Ones(2, 3);
  Eigen::MatrixXd w(2, 2);
  w << 1, 0, 0, 0;
  EXPECT_EQ(invalid_of([&] { mixture_descriptors(w, c); }), "weights row 1 sums to 0");
  w << 1, 0, 0.5, -0.1;
  EXPECT_EQ(invalid_of([&] { mixture_descriptors(w, c); }), "weights row 1, component 1: negative amount -0.1");
  w << 1, NAN, 0.5, 0.5;
  EXPECT_EQ(invalid_of([&] { mixture_descriptors(w, c); }), "weights row 0, component 1: amount is not finite");
  EXPECT_EQ(invalid_of([&] { mixture_descriptors(Eigen::MatrixXd::Ones(2, 3), c); }),
            "mixture_descriptors: weights have 3 columns but there are 2 components");
  c(1, 2) = INFINITY;
  w << 1, 0, 0, 1;
  EXPECT_EQ(invalid_of([&] { mixture_descriptors(w, c); }),
            "mixture_descriptors: components row 1, column 2 is not finite");
}

// ------------------------------------------------------------------------------------------------ many molecules

TEST(Many, equal_to_one_at_a_time_and_independent_of_threads) {
  const core::Table g = golden();
  std::vector<std::string> smiles = g.text_column("smiles");
  const std::vector<std::string> more = g.text_column("smiles_random");
  smiles.insert(smiles.end(), more.begin(), more.end());
  DescriptorOptions o;
  o.smarts = golden_smarts();
  o.morgan_bits = 256;
  o.threads = 1;
  const MoleculeDescriptors serial = describe_many(smiles, o);
  ASSERT_EQ(serial.X.rows(), static_cast<Eigen::Index>(smiles.size()));
  for (std::size_t i = 0; i < smiles.size(); ++i)
    EXPECT_TRUE(Eigen::VectorXd(serial.X.row(static_cast<Eigen::Index>(i)).transpose()) == describe_smiles(smiles[i], o))
        << smiles[i];
  for (unsigned threads : {2u, 3u, 7u, 0u}) {
    o.threads = threads;
    core::Progress progress("bio test", smiles.size());
    const MoleculeDescriptors par = describe_many(smiles, o, false, &progress);
    EXPECT_TRUE(par.X == serial.X) << threads;
    EXPECT_EQ(par.canonical, serial.canonical);
    EXPECT_EQ(par.rows, serial.rows);
  }
}

// ------------------------------------------------------------------------------------------------ tables

TEST(Table, keeps_user_columns_reports_duplicates_and_exclusions) {
  const std::string csv =
      "id,smiles,contact_angle_deg,note\n"
      "a,CCO,30.5,\"ethanol, neat\"\n"
      "b,c1ccccc1,72,\n"
      "c,C1CC,10,broken\n"
      "d,OCC,31,same molecule as a\n"
      "e,OCCOCCOCCOCCO,25,TEG\n";
  const core::Table t = core::parse_csv(csv, "sam.csv");
  DescriptorOptions o;
  o.smarts = {{"hydroxyl", "[OX2H]"}};
  EXPECT_EQ(invalid_of([&] { descriptor_table(t, "smiles", o); }),
            "sam.csv: row 3: unparseable SMILES 'C1CC' (unclosed ring bond 1)");
  const DescriptorTable d = descriptor_table(t, "smiles", o, true);
  EXPECT_EQ(d.source, "sam.csv");
  EXPECT_EQ(d.user_columns, (std::vector<std::string>{"id", "contact_angle_deg", "note"}));
  std::vector<std::string> cols = {"id", "contact_angle_deg", "note", "canonical_smiles"};
  for (const auto& n : descriptor_names(o)) cols.push_back(n);
  EXPECT_EQ(d.columns(), cols);
  ASSERT_EQ(d.n_rows(), 4u);
  EXPECT_EQ(d.user_cells[0], (std::vector<std::string>{"a", "30.5", "ethanol, neat"}));
  EXPECT_EQ(d.user_cells[2], (std::vector<std::string>{"d", "31", "same molecule as a"}));
  EXPECT_EQ(d.line_numbers, (std::vector<std::size_t>{2, 3, 5, 6}));
  EXPECT_EQ(d.molecules.rows, (std::vector<std::size_t>{0, 1, 3, 4}));
  EXPECT_EQ(d.molecules.canonical[2], "CCO");
  EXPECT_TRUE(d.molecules.excluded.empty());
  ASSERT_EQ(d.excluded.size(), 1u);
  EXPECT_EQ(d.excluded[0].row, 3u);
  EXPECT_EQ(d.excluded[0].smiles, "C1CC");
  EXPECT_EQ(d.excluded[0].reason, "sam.csv: row 3: unparseable SMILES 'C1CC' (unclosed ring bond 1)");
  ASSERT_EQ(d.duplicates.size(), 1u);
  EXPECT_EQ(d.duplicates[0].first_row, 1u);
  EXPECT_EQ(d.duplicates[0].row, 4u);
  EXPECT_EQ(d.duplicates[0].canonical, "CCO");

  // The text table: user columns numeric again with line numbers for errors, descriptors as shortest doubles.
  const core::Table text = d.table();
  EXPECT_EQ(text.columns, cols);
  EXPECT_EQ(text.source, "sam.csv");
  const core::NumericData angle = text.numeric({"contact_angle_deg", "eg_units", "smarts_hydroxyl"});
  Eigen::MatrixXd expected(4, 3);
  expected << 30.5, 0, 1,  //
      72, 0, 0,            //
      31, 0, 1,            //
      25, 4, 2;
  EXPECT_EQ(angle.values, expected);
  EXPECT_EQ(text.rows[3][text.column_index("canonical_smiles")], "OCCOCCOCCOCCO");
  EXPECT_EQ(text.rows[0][text.column_index("tpsa")], "20.23");
  try {
    text.numeric({"note"});
    ADD_FAILURE() << "non-numeric note accepted";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.line(), 2u);  // the input line of row "a"
  }

  // Streamed CSV == core's writer on the text table; the atomic file reads back to the same table.
  std::ostringstream streamed;
  d.write_csv(streamed);
  EXPECT_EQ(streamed.str(), core::format_csv(text.columns, text.rows));
  const fs::path dir = fs::temp_directory_path() / ("tsunagu_bio_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  d.write_csv(dir / "desc.csv");
  const core::Table back = core::read_csv(dir / "desc.csv");
  EXPECT_EQ(back.columns, text.columns);
  EXPECT_EQ(back.rows, text.rows);
  fs::remove_all(dir);
}

TEST(Table, bad_tables_give_one_line) {
  // A user column named like an output column is kept under "input_<name>" and reported.
  const core::Table t = core::parse_csv("smiles,hbd,input_hbd,canonical_smiles\nCCO,1,2,x\n", "x.csv");
  const DescriptorTable renamed = descriptor_table(t, "smiles", DescriptorOptions{});
  EXPECT_EQ(renamed.user_columns,
            (std::vector<std::string>{"input_input_hbd", "input_hbd", "input_canonical_smiles"}));
  EXPECT_EQ(renamed.renamed, (std::vector<std::pair<std::string, std::string>>{
                                 {"hbd", "input_input_hbd"}, {"canonical_smiles", "input_canonical_smiles"}}));
  EXPECT_EQ(renamed.table().numeric({"input_input_hbd", "input_hbd", "hbd"}).values,
            (Eigen::MatrixXd(1, 3) << 1, 2, 1).finished());
  DescriptorOptions fp_only;
  fp_only.physchem = false;
  fp_only.morgan_bits = 64;
  EXPECT_EQ(descriptor_table(t, "smiles", fp_only).user_columns,  // no clash without the physchem columns
            (std::vector<std::string>{"hbd", "input_hbd", "input_canonical_smiles"}));
  EXPECT_NE(invalid_of([&] { descriptor_table(t, "SMILES", fp_only); }).find("no column 'SMILES'"), std::string::npos);
  const core::Table bad = core::parse_csv("smiles,y\nxx,1\n,2\n", "y.csv");
  EXPECT_EQ(invalid_of([&] { descriptor_table(bad, "smiles", DescriptorOptions{}, true); }),
            "y.csv: no parseable SMILES in column 'smiles' (2 rows excluded)");
  EXPECT_EQ(invalid_of([&] { descriptor_table(bad, "smiles", DescriptorOptions{}); }),
            "y.csv: row 1: unparseable SMILES 'xx'");
}

// ------------------------------------------------------------------------------------------------ real data

TEST(Esol, every_smiles_parses_and_rdkit_columns_agree) {
  const fs::path path = fs::path(TSUNAGU_SHARED_DIR) / "data/bio/esol.csv";
  if (!fs::exists(path)) GTEST_SKIP() << path.string() << " is absent (shared reference data not installed)";
  const core::Table t = core::read_csv(path);
  const DescriptorTable d = descriptor_table(t, "smiles", DescriptorOptions{});
  EXPECT_EQ(d.renamed, (std::vector<std::pair<std::string, std::string>>{{"mol_weight", "input_mol_weight"}}));
  EXPECT_EQ(d.n_rows(), t.n_rows());  // every ESOL SMILES parses (descriptor_table would have thrown otherwise)
  EXPECT_TRUE(d.excluded.empty());
  // The file's descriptors (DeepChem's delaney-processed.csv) were computed with RDKit: NumHDonors (= CalcNumHBD),
  // NumRotatableBonds (default strict definition), TPSA, MolWt, ring count. All agree with RDKit 2022.09.
  const auto& names = d.molecules.names;
  const auto col = [&](const char* n) {
    return static_cast<Eigen::Index>(std::find(names.begin(), names.end(), n) - names.begin());
  };
  const core::NumericData file =
      t.numeric({"n_hbond_donors", "n_rotatable_bonds", "polar_surface_area", "mol_weight", "n_rings"});
  const std::vector<std::string> ours = {"hbd", "rotatable_bonds", "tpsa", "mol_weight", "rings"};
  for (std::size_t k = 0; k < ours.size(); ++k) {
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < d.n_rows(); ++i) {
      const double a = d.molecules.X(static_cast<Eigen::Index>(i), col(ours[k].c_str()));
      const double b = file.values(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k));
      if (!close_rel(a, b)) {
        if (++mismatches <= 5)
          ADD_FAILURE() << "ESOL row " << i + 1 << " " << t.rows[i][0] << ": " << ours[k] << " " << a << " vs file "
                        << b;
      }
    }
    EXPECT_EQ(mismatches, 0u) << ours[k];
  }
  // Report what was found (no assertion on the data itself).
  std::cout << "[ esol ] " << d.n_rows() << " molecules, " << d.duplicates.size()
            << " duplicate canonical SMILES pairs\n";
}
