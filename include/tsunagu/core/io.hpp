#pragma once
/// Atomic file output and JSON helpers. Every file tsunagu writes goes through write_file_atomic: the content
/// is written to "<path>.tmp.<pid>" and renamed over <path>, so a crash never leaves a partial file that looks
/// complete.
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tsunagu::core {

/// Write `contents` to `path` atomically. Throws IoError naming the path on failure (no temp file is left).
void write_file_atomic(const std::filesystem::path& path, std::string_view contents);

/// Stream-producing variant: `produce` writes into the stream; on exception the temp file is removed and the
/// exception propagates.
void write_file_atomic(const std::filesystem::path& path, const std::function<void(std::ostream&)>& produce);

/// Write several files as one unit: every content goes to a temp file first, and only when all were written are they
/// renamed into place; on failure no target is touched and no temp file is left. Used by front ends that produce
/// several outputs (model + plots) so that a failure never leaves some of them looking complete.
void write_files_atomic(const std::vector<std::pair<std::filesystem::path, std::string>>& files);

/// Read a whole file. Throws IoError naming the path.
std::string read_file(const std::filesystem::path& path);

/// JSON with 2-space indentation, written atomically. Non-finite doubles are written as null (JSON has no NaN).
void write_json(const std::filesystem::path& path, const nlohmann::json& value);

/// Parse a JSON file; a syntax error becomes ParseError with the file name and byte position.
nlohmann::json read_json(const std::filesystem::path& path);

}  // namespace tsunagu::core
