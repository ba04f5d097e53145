#include "structure_input.hpp"

#include "common.hpp"
#include "tsunagu/structure/formats.hpp"

namespace tsunagu::cli {

void add_structure_input(CLI::App* c, StructureInput& a) {
  c->add_option("file", a.file, "structure file (CIF, POSCAR/CONTCAR, pymatgen JSON, XYZ)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--format", a.format, "auto | cif | poscar | json | xyz (auto: by extension, then content)")
      ->capture_default_str();
  c->add_option("--block", a.block, "CIF data block name (default: the first)");
  c->add_option("--species", a.species, "POSCAR (VASP 4, no species line): comma-separated species, e.g. Mn,Ga,N");
  c->add_option("--min-distance", a.min_distance, "refuse atoms closer than this (A; 0 disables)")
      ->capture_default_str();
}

structure::Crystal load_structure(const StructureInput& a) {
  structure::ReadOptions o;
  o.format = structure::parse_format(a.format);
  o.cif_block = a.block;
  o.species = split_list(a.species);
  o.min_distance = a.min_distance;
  return structure::read_structure(a.file, o);
}

}  // namespace tsunagu::cli
