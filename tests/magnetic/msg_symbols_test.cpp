#include "tsunagu/magnetic/msg_symbols.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"
#include "tsunagu/structure/crystal.hpp"
#include "tsunagu/structure/symmetry.hpp"

namespace tsunagu::magnetic {
namespace {

using structure::Crystal;

TEST(MsgSymbols, TableIsCompleteAndOrdered) {
  std::set<std::string> bns, og;
  for (int uni = 1; uni <= kMagneticSpaceGroupTypes; ++uni) {
    const MsgTypeInfo& info = magnetic_space_group_type(uni);
    EXPECT_EQ(info.uni, uni);
    EXPECT_GE(info.type, 1);
    EXPECT_LE(info.type, 4);
    EXPECT_FALSE(info.bns_symbol.empty()) << uni;
    EXPECT_FALSE(info.og_symbol.empty()) << uni;
    EXPECT_TRUE(bns.insert(info.bns_number).second) << "duplicate BNS " << info.bns_number;
    EXPECT_TRUE(og.insert(info.og_number).second) << "duplicate OG " << info.og_number;
    // Lookups by number come back to the same entry.
    EXPECT_EQ(&magnetic_space_group_type_bns(info.bns_number), &info);
    ASSERT_NE(find_magnetic_space_group_type_og(info.og_number), nullptr);
    EXPECT_EQ(find_magnetic_space_group_type_og(info.og_number)->uni, uni);
    // Types I-III share BNS and OG settings, so the symbols agree; type IV symbols differ in the lattice part.
    if (info.type != 4) {
      EXPECT_EQ(info.bns_symbol, info.og_symbol) << uni;
    }
  }
  EXPECT_EQ(bns.size(), 1651u);
}

TEST(MsgSymbols, SpotChecks) {
  const MsgTypeInfo& a = magnetic_space_group_type(1331);
  EXPECT_EQ(a.bns_number, "166.101");
  EXPECT_EQ(a.bns_symbol, "R-3m'");
  EXPECT_EQ(a.og_number, "166.5.1331");
  EXPECT_EQ(a.type, 3);
  const MsgTypeInfo& b = magnetic_space_group_type(1327);
  EXPECT_EQ(b.bns_number, "166.97");
  EXPECT_EQ(b.bns_symbol, "R-3m");
  EXPECT_EQ(b.type, 1);
  EXPECT_EQ(magnetic_space_group_type_bns("123.345").bns_symbol, "P4/mm'm'");
  EXPECT_EQ(magnetic_space_group_type_bns("139.537").bns_symbol, "I4/mm'm'");
  EXPECT_EQ(magnetic_space_group_type(1).bns_symbol, "P1");
  EXPECT_EQ(magnetic_space_group_type(2).bns_symbol, "P11'");
  // Type IV: BNS and OG differ in number and lattice symbol.
  const MsgTypeInfo& c = magnetic_space_group_type(3);
  EXPECT_EQ(c.bns_number, "1.3");
  EXPECT_EQ(c.bns_symbol, "P_S1");
  EXPECT_EQ(c.og_symbol, "P_2s1");
  EXPECT_EQ(c.type, 4);
  const MsgTypeInfo& last = magnetic_space_group_type(1651);
  EXPECT_EQ(last.bns_number, "230.149");
  EXPECT_EQ(last.bns_symbol, "Ia'-3'd'");
}

TEST(MsgSymbols, GreyGroupsAreTypeTwo) {
  int grey = 0;
  for (int uni = 1; uni <= kMagneticSpaceGroupTypes; ++uni) {
    const MsgTypeInfo& info = magnetic_space_group_type(uni);
    // "...1'" is the grey-group suffix, but "P6_1'" and "P-1'" end in a primed screw axis or inversion.
    const std::string& s = info.bns_symbol;
    const bool ends_in_1prime = s.size() > 3 && s.compare(s.size() - 2, 2, "1'") == 0 && s[s.size() - 3] != '_' &&
                                s[s.size() - 3] != '-';
    EXPECT_EQ(info.type == 2, ends_in_1prime) << info.bns_symbol;
    grey += info.type == 2;
  }
  EXPECT_EQ(grey, 230);  // one grey group per space-group type
  EXPECT_EQ(magnetic_space_group_type_bns("166.98").type, 2);
}

TEST(MsgSymbols, RejectsOutOfRange) {
  EXPECT_THROW(magnetic_space_group_type(0), InvalidArgument);
  EXPECT_THROW(magnetic_space_group_type(1652), InvalidArgument);
  EXPECT_THROW(magnetic_space_group_type(-5), InvalidArgument);
  EXPECT_THROW(magnetic_space_group_type_bns("999.1"), InvalidArgument);
  EXPECT_EQ(find_magnetic_space_group_type_bns("166"), nullptr);
  EXPECT_EQ(find_magnetic_space_group_type_og("166.5"), nullptr);
}

// The table must agree with what the linked spglib reports for real magnetic configurations.
void expect_consistent(const structure::MagneticSymmetry& msg) {
  ASSERT_GE(msg.uni_number, 1);
  const MsgTypeInfo& info = magnetic_space_group_type(msg.uni_number);
  EXPECT_EQ(info.bns_number, msg.bns_number);
  EXPECT_EQ(info.og_number, msg.og_number);
  EXPECT_EQ(info.type, msg.type);
}

Crystal bcc_fe_conventional() {
  Crystal c;
  c.lattice = 2.87 * Eigen::Matrix3d::Identity();
  c.frac = Eigen::MatrixXd(2, 3);
  c.frac << 0, 0, 0, 0.5, 0.5, 0.5;
  c.numbers = {26, 26};
  c.labels = {"Fe1", "Fe2"};
  return c;
}

TEST(MsgSymbols, FerromagneticBccFe) {
  const Crystal c = bcc_fe_conventional();
  Eigen::MatrixXd m(2, 3);
  m << 0, 0, 2.2, 0, 0, 2.2;
  const auto msg = structure::analyze_magnetic(c, m);
  expect_consistent(msg);
  EXPECT_EQ(msg.bns_number, "139.537");
  const MagneticGroupLabel label = magnetic_group_label(msg);
  EXPECT_EQ(label.bns, "139.537");
  EXPECT_EQ(label.bns_symbol, "I4/mm'm'");
  EXPECT_EQ(label.type, 3);
  EXPECT_EQ(label.uni, msg.uni_number);
}

TEST(MsgSymbols, CollinearAntiferromagnetCsClType) {
  // Body centre antiparallel to the corner, moments along c: (1/2,1/2,1/2) becomes an anti-translation. At the
  // origin 4/m keeps m_z and the vertical mirrors/2-folds flip it, so the unitary subgroup has m_x and 2_x only
  // combined with the body-centring translation: P4/mnc, black-white lattice I -> BNS P_I4/mnc (OG I_P4/mm'm').
  const Crystal c = bcc_fe_conventional();
  Eigen::MatrixXd m(2, 3);
  m << 0, 0, 2.2, 0, 0, -2.2;
  const auto msg = structure::analyze_magnetic(c, m);
  expect_consistent(msg);
  const MagneticGroupLabel label = magnetic_group_label(msg);
  EXPECT_EQ(label.type, 4);
  EXPECT_EQ(label.bns, "128.410");
  EXPECT_EQ(label.bns_symbol, "P_I4/mnc");
  EXPECT_EQ(magnetic_space_group_type(label.uni).og_symbol, "I_P4/mm'm'");
}

TEST(MsgSymbols, Mn3GaNAllInTriangle) {
  Crystal c;
  c.lattice = 3.9 * Eigen::Matrix3d::Identity();
  c.frac = Eigen::MatrixXd(5, 3);
  c.frac << 0, 0.5, 0.5, 0.5, 0, 0.5, 0.5, 0.5, 0, 0, 0, 0, 0.5, 0.5, 0.5;
  c.numbers = {25, 25, 25, 31, 7};
  c.labels = {"Mn1", "Mn2", "Mn3", "Ga1", "N1"};
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(5, 3);
  m.row(0) << 2, -1, -1;
  m.row(1) << -1, 2, -1;
  m.row(2) << -1, -1, 2;
  const auto msg = structure::analyze_magnetic(c, m);
  expect_consistent(msg);
  const MagneticGroupLabel label = magnetic_group_label(msg);
  EXPECT_EQ(label.uni, 1331);
  EXPECT_EQ(label.bns_symbol, "R-3m'");
}

TEST(MsgSymbols, LabelOfUndeterminedGroupIsEmpty) {
  structure::MagneticSymmetry msg;  // uni_number 0
  const MagneticGroupLabel label = magnetic_group_label(msg);
  EXPECT_EQ(label.uni, 0);
  EXPECT_TRUE(label.bns_symbol.empty());
}

}  // namespace
}  // namespace tsunagu::magnetic
