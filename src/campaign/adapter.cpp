#include "tsunagu/campaign/adapter.hpp"

#include <sys/types.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/process.hpp"
#include "tsunagu/core/table.hpp"

// After Eigen (via table.hpp): <resolv.h>, which httplib pulls in, defines a macro `_res` that breaks Eigen.
#include <httplib.h>

namespace tsunagu::campaign {
namespace {

using json = nlohmann::json;

constexpr std::size_t kRawLimit = 4096;            // bytes of a reply kept in Outcome::raw
constexpr std::size_t kStderrLimit = 4096;         // bytes of stderr kept for the error message
constexpr std::size_t kStdoutLimit = 64u << 20;    // a reply larger than this is not a reply (runaway program)

// Cut to at most `limit` bytes without splitting a UTF-8 sequence (raw replies end up in JSON/SQLite text).
std::string utf8_prefix(const std::string& s, std::size_t limit) {
  if (s.size() <= limit) return s;
  std::size_t n = limit;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n\f\v";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

Outcome failed(std::string error, const std::string& raw) {
  Outcome o;
  o.kind = Outcome::Kind::Failed;
  o.error = std::move(error);
  o.raw = utf8_prefix(raw, kRawLimit);
  return o;
}

// Python's json.dumps writes NaN / Infinity / -Infinity for non-finite floats, which is not JSON. An instrument
// script that measured nothing should be told "objective 'x' is not finite", not "malformed JSON", so such bare
// tokens (outside strings) are rewritten as the strings "NaN", "Infinity", "-Infinity" before parsing.
std::string quote_nonfinite_tokens(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 16);
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      continue;
    }
    bool replaced = false;
    for (const char* token : {"-Infinity", "Infinity", "NaN"}) {
      const std::size_t n = std::strlen(token);
      if (text.compare(i, n, token) == 0) {
        out += '"';
        out += token;
        out += '"';
        i += n - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += c;
  }
  return out;
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; the bracket is noise for a lab log.
std::string json_error_message(const std::exception& e) {
  std::string m = e.what();
  if (!m.empty() && m[0] == '[') {
    const auto close = m.find("] ");
    if (close != std::string::npos) m = m.substr(close + 2);
  }
  return m;
}

// Parse `text` as a JSON document; when the whole text is not JSON but its last non-empty line is an object (a
// program that logs to stdout before the reply), that line is the reply. Returns false with `error` set otherwise.
bool parse_document(const std::string& text, json& doc, std::string& error) {
  const std::string fixed = quote_nonfinite_tokens(text);
  try {
    doc = json::parse(fixed);
    return true;
  } catch (const json::exception& e) {
    error = json_error_message(e);
  }
  const std::string t = trim(fixed);
  const auto nl = t.find_last_of('\n');
  if (nl == std::string::npos) return false;
  const std::string last = trim(t.substr(nl + 1));
  if (last.empty() || last[0] != '{') return false;
  try {
    doc = json::parse(last);
    return doc.is_object();
  } catch (const json::exception&) {
    return false;
  }
}

std::string short_dump(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 80) s = utf8_prefix(s, 77) + "...";
  return s;
}

// One objective value from a values object; sets `error` (naming the objective) when it is unusable.
bool objective_value(const json& values, const std::string& name, double& value, std::string& error) {
  const auto it = values.find(name);
  if (it == values.end()) {
    error = "reply has no value for objective '" + name + "'";
    return false;
  }
  if (it->is_null()) {
    error = "objective '" + name + "' is null (no measurement)";
    return false;
  }
  if (it->is_string()) {
    std::string s = it->get<std::string>();
    std::string lower = s;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (lower == "nan" || lower == "infinity" || lower == "-infinity" || lower == "inf" || lower == "-inf") {
      error = "objective '" + name + "' is not finite (" + s + ")";
    } else {
      error = "objective '" + name + "' is not a number (got " + short_dump(*it) + ")";
    }
    return false;
  }
  if (!it->is_number()) {
    error = "objective '" + name + "' is not a number (got " + short_dump(*it) + ")";
    return false;
  }
  value = it->get<double>();
  if (!std::isfinite(value)) {
    error = "objective '" + name + "' is not finite (" + short_dump(*it) + ")";
    return false;
  }
  return true;
}

Outcome parse_values(const json& values, const std::vector<std::string>& objectives, const std::string& raw) {
  Outcome o;
  o.kind = Outcome::Kind::Done;
  o.raw = utf8_prefix(raw, kRawLimit);
  if (objectives.empty()) {  // nothing expected: keep every finite number
    for (const auto& [k, v] : values.items())
      if (v.is_number() && std::isfinite(v.get<double>())) o.values[k] = v.get<double>();
    return o;
  }
  for (const auto& name : objectives) {
    double value = 0;
    std::string error;
    if (!objective_value(values, name, value, error)) return failed(error, raw);
    o.values[name] = value;
  }
  return o;
}

std::string error_text(const json& doc, const std::string& fallback) {
  const auto it = doc.find("error");
  if (it == doc.end() || it->is_null()) return fallback;
  if (it->is_string()) {
    const std::string s = trim(it->get<std::string>());
    return s.empty() ? fallback : s;
  }
  return short_dump(*it);
}

std::string format_seconds(double s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP helpers.

struct HttpUrl {
  std::string origin;  // "http://host:port"
  std::string prefix;  // "" or "/api/v1" (no trailing slash)
};

HttpUrl split_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind("https://", 0) == 0)
    throw InvalidArgument("adapter: https is not supported, use an http:// URL (got '" + url + "')");
  if (url.rfind(scheme, 0) != 0)
    throw InvalidArgument("adapter: expected an http://HOST[:PORT][/PREFIX] URL (got '" + url + "')");
  const std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  HttpUrl u;
  const std::string hostport = rest.substr(0, slash);
  if (hostport.empty() || hostport.find_first_of(" \t?#@") != std::string::npos)
    throw InvalidArgument("adapter: bad host in URL '" + url + "'");
  u.origin = scheme + hostport;
  if (slash != std::string::npos) {
    u.prefix = rest.substr(slash);
    while (!u.prefix.empty() && u.prefix.back() == '/') u.prefix.pop_back();
  }
  return u;
}

// Percent-encode everything but RFC 3986 unreserved characters (a job id is one path segment).
std::string encode_segment(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

void configure(httplib::Client& client, double timeout_s) {
  const auto t = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::duration<double>(timeout_s));
  client.set_connection_timeout(t);
  client.set_read_timeout(t);
  client.set_write_timeout(t);
  client.set_follow_location(true);
  client.set_url_encode(false);  // paths are encoded here
  client.set_keep_alive(false);
}

// Outcome of one HTTP exchange: transport errors and status >= 400 are failures, a 2xx/3xx body is a reply.
Outcome http_outcome(const httplib::Result& res, const std::string& what, const std::vector<std::string>& objectives,
                     const std::string* poll_ref) {
  if (!res) {
    const auto e = res.error();
    std::string why = httplib::to_string(e);
    if (e == httplib::Error::Connection) why = "connection failed (is the controller running?)";
    else if (e == httplib::Error::ConnectionTimeout) why = "connection timed out";
    else if (e == httplib::Error::Read) why = "no complete reply (read error or timeout)";
    else if (e == httplib::Error::Write) why = "request could not be sent (write error or timeout)";
    return failed("HTTP " + what + ": " + why, "");
  }
  const std::string& body = res->body;
  if (res->status >= 400) {
    std::string msg = "HTTP " + std::to_string(res->status) + " from " + what;
    const std::string text = trim(utf8_prefix(body, 512));
    if (!text.empty()) msg += ": " + text;
    return failed(msg, body);
  }
  if (res->status < 200 || res->status >= 300)
    return failed("HTTP " + std::to_string(res->status) + " from " + what + " (expected 2xx)", body);
  if (poll_ref) {
    // A poll may answer {"status": "running"} without repeating the id: the job is the one we asked about.
    json doc;
    std::string error;
    if (parse_document(body, doc, error) && doc.is_object()) {
      const auto st = doc.find("status");
      if (st != doc.end() && st->is_string() && st->get<std::string>() == "running" && !doc.contains("id")) {
        Outcome o;
        o.kind = Outcome::Kind::Running;
        o.ref = *poll_ref;
        o.raw = utf8_prefix(body, kRawLimit);
        return o;
      }
    }
  }
  return parse_reply(body, objectives);
}

// A word the shell passes through unchanged: as it is when it has only safe characters, else in single quotes.
std::string shell_word(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=@%+-") ==
                        std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void print_block(const ExperimentRequest& request, const std::string& database) {
  const std::string db = database.empty() ? "CAMPAIGN.sqlite" : shell_word(database);
  std::ostringstream os;
  const std::string rule(64, '=');
  os << "\n" << rule << "\n";
  os << "MANUAL EXPERIMENT " << request.experiment;
  if (!request.campaign.empty()) os << "  (campaign \"" << request.campaign << "\"";
  if (!request.campaign.empty()) os << ", attempt " << request.attempt << ")";
  os << "\n\nSet the conditions:\n";
  std::size_t width = 0;
  if (request.parameters.is_object())
    for (const auto& [k, v] : request.parameters.items()) width = std::max(width, k.size());
  if (request.parameters.is_object()) {
    for (const auto& [k, v] : request.parameters.items()) {
      std::string value;
      if (v.is_number()) value = core::format_double(v.get<double>());
      else if (v.is_string()) value = v.get<std::string>();
      else value = v.dump();
      os << "  " << k << std::string(width - k.size(), ' ') << " = " << value << "\n";
    }
  }
  os << "\nMeasure: ";
  for (std::size_t i = 0; i < request.objectives.size(); ++i) os << (i ? ", " : "") << request.objectives[i];
  os << "\n\nRecord the result with:\n";
  if (request.objectives.size() <= 1) {
    const std::string v = request.objectives.empty() ? "V" : request.objectives[0];
    os << "  tsunagu campaign record --db " << db << " --experiment " << request.experiment << " --value <"
       << v << ">\n";
  } else {
    os << "  tsunagu campaign record --db " << db << " --experiment " << request.experiment;
    for (const auto& name : request.objectives) os << " --value " << name << "=<V>";
    os << "\n";
  }
  os << rule << "\n";
  const std::string text = os.str();
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

nlohmann::json ExperimentRequest::to_json() const {
  json j;
  j["campaign"] = campaign;
  j["experiment"] = experiment;
  j["attempt"] = attempt;
  j["key"] = campaign + "/" + std::to_string(experiment) + "/" + std::to_string(attempt);
  j["parameters"] = parameters.is_null() ? json::object() : parameters;
  j["objectives"] = objectives;
  return j;
}

Outcome parse_reply(const std::string& text, const std::vector<std::string>& objectives) {
  try {
    if (trim(text).empty()) return failed("malformed JSON reply: empty output", text);
    json doc;
    std::string error;
    if (!parse_document(text, doc, error)) return failed("malformed JSON reply: " + error, text);
    if (!doc.is_object())
      return failed(std::string("malformed JSON reply: expected an object, got ") + doc.type_name(), text);

    const auto st = doc.find("status");
    if (st == doc.end()) {
      // A bare {"objective": value} object means done; a bare {"error": "..."} means failed.
      if (doc.contains("error") && (objectives.empty() || !doc.contains(objectives[0])))
        return failed(error_text(doc, "instrument reported an error"), text);
      return parse_values(doc, objectives, text);
    }
    if (!st->is_string()) return failed("reply 'status' is not a string (got " + short_dump(*st) + ")", text);
    const std::string status = st->get<std::string>();
    if (status == "done") {
      const auto v = doc.find("values");
      if (v == doc.end()) return parse_values(doc, objectives, text);  // {"status":"done","resistivity":...}
      if (!v->is_object())
        return failed("reply 'values' is not an object (got " + short_dump(*v) + ")", text);
      return parse_values(*v, objectives, text);
    }
    if (status == "failed") return failed(error_text(doc, "instrument reported failure without a message"), text);
    if (status == "infeasible") {
      Outcome o;
      o.kind = Outcome::Kind::Infeasible;
      o.error = error_text(doc, "instrument reported infeasible conditions");
      o.raw = utf8_prefix(text, kRawLimit);
      return o;
    }
    if (status == "running") {
      const auto id = doc.find("id");
      std::string ref;
      if (id != doc.end() && id->is_string()) ref = id->get<std::string>();
      else if (id != doc.end() && id->is_number_integer()) ref = id->dump();
      if (ref.empty()) return failed("reply status 'running' without a job 'id' to poll", text);
      Outcome o;
      o.kind = Outcome::Kind::Running;
      o.ref = ref;
      o.raw = utf8_prefix(text, kRawLimit);
      return o;
    }
    return failed("unknown reply status '" + status + "' (expected done, failed, infeasible or running)", text);
  } catch (const std::exception& e) {  // never throws: a faulty robot must not stop the campaign
    return failed(std::string("cannot interpret reply: ") + e.what(), text);
  }
}

// ---------------------------------------------------------------------------------------------------------------

CommandAdapter::CommandAdapter(std::string command, AdapterOptions options)
    : command_(std::move(command)), options_(options) {
  if (trim(command_).empty()) throw InvalidArgument("adapter: command is empty");
  if (!(options_.timeout_s > 0)) throw InvalidArgument("adapter: timeout must be > 0 seconds");
}

Outcome CommandAdapter::start(const ExperimentRequest& request) {
  core::ProcessResult r;
  try {
    core::ProcessOptions po;
    po.timeout_s = options_.timeout_s;
    po.input = request.to_json().dump() + "\n";
    po.stdout_limit = kStdoutLimit;
    po.stderr_limit = kStderrLimit;
    r = core::run_process(command_, po);
  } catch (const std::exception& e) {
    return failed(e.what(), "");
  }
  const std::string tail = trim(r.err);
  auto with_stderr = [&](std::string msg) {
    if (!tail.empty()) msg += "; stderr: " + tail;
    return msg;
  };
  if (r.output_overflow)  // checked first: the program was killed for it
    return failed("command wrote more than " + std::to_string(kStdoutLimit >> 20) +
                      " MiB to stdout (process group killed)",
                  r.out);
  if (r.timed_out)
    return failed(with_stderr("command timed out after " + format_seconds(options_.timeout_s) +
                              " s (process group killed)"),
                  r.out);
  if (WIFSIGNALED(r.status))
    return failed(with_stderr("command killed by signal " + core::signal_name(WTERMSIG(r.status))), r.out);
  if (WIFEXITED(r.status) && WEXITSTATUS(r.status) != 0) {
    std::string msg = "command exited with code " + std::to_string(WEXITSTATUS(r.status));
    msg += tail.empty() ? " (no stderr output)" : ": " + tail;
    return failed(msg, r.out);
  }
  Outcome o = parse_reply(r.out, request.objectives);
  if (o.kind == Outcome::Kind::Running) {
    // A command is synchronous: nothing could poll its job later.
    return failed("command replied 'running', which only an HTTP controller may do", r.out);
  }
  if (o.kind == Outcome::Kind::Failed && o.error.rfind("malformed JSON reply", 0) == 0) o.error = with_stderr(o.error);
  return o;
}

Outcome CommandAdapter::poll(const std::string& ref, const std::vector<std::string>&) {
  return failed("command adapter cannot poll experiment '" + ref + "' (commands run synchronously)", "");
}

// ---------------------------------------------------------------------------------------------------------------

HttpAdapter::HttpAdapter(std::string url, AdapterOptions options) : url_(std::move(url)), options_(options) {
  const HttpUrl u = split_url(url_);  // validates
  url_ = u.origin + u.prefix;
  if (!(options_.timeout_s > 0)) throw InvalidArgument("adapter: timeout must be > 0 seconds");
  if (!(options_.poll_interval_s > 0)) throw InvalidArgument("adapter: poll interval must be > 0 seconds");
}

Outcome HttpAdapter::start(const ExperimentRequest& request) {
  try {
    const HttpUrl u = split_url(url_);
    httplib::Client client(u.origin);
    configure(client, options_.timeout_s);
    const std::string path = u.prefix + "/experiments";
    const auto res = client.Post(path.c_str(), request.to_json().dump(), "application/json");
    return http_outcome(res, "POST " + url_ + "/experiments", request.objectives, nullptr);
  } catch (const std::exception& e) {
    return failed(std::string("HTTP POST ") + url_ + "/experiments: " + e.what(), "");
  }
}

Outcome HttpAdapter::poll(const std::string& ref, const std::vector<std::string>& objectives) {
  try {
    const HttpUrl u = split_url(url_);
    httplib::Client client(u.origin);
    configure(client, options_.timeout_s);
    const std::string path = u.prefix + "/experiments/" + encode_segment(ref);
    const auto res = client.Get(path.c_str());
    return http_outcome(res, "GET " + url_ + "/experiments/" + encode_segment(ref), objectives, &ref);
  } catch (const std::exception& e) {
    return failed(std::string("HTTP GET ") + url_ + "/experiments/" + ref + ": " + e.what(), "");
  }
}

// ---------------------------------------------------------------------------------------------------------------

Outcome ManualAdapter::start(const ExperimentRequest& request) {
  print_block(request, options_.database);
  Outcome o;
  o.kind = Outcome::Kind::Running;
  o.ref = std::to_string(request.experiment);
  return o;
}

Outcome ManualAdapter::poll(const std::string& ref, const std::vector<std::string>&) {
  Outcome o;
  o.kind = Outcome::Kind::Running;
  o.ref = ref;
  return o;
}

// ---------------------------------------------------------------------------------------------------------------

std::unique_ptr<Adapter> make_adapter(const std::string& spec, const AdapterOptions& options) {
  const std::string forms = "expected command:CMD, http://HOST:PORT[/PREFIX], http:URL or manual";
  if (spec.rfind("command:", 0) == 0) {
    const std::string cmd = spec.substr(8);
    if (trim(cmd).empty()) throw InvalidArgument("adapter: 'command:' needs a command to run (" + forms + ")");
    return std::make_unique<CommandAdapter>(cmd, options);
  }
  if (spec.rfind("http://", 0) == 0 || spec.rfind("https://", 0) == 0)
    return std::make_unique<HttpAdapter>(spec, options);
  if (spec.rfind("http:", 0) == 0) {
    std::string url = trim(spec.substr(5));
    if (url.empty()) throw InvalidArgument("adapter: 'http:' needs a URL (" + forms + ")");
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) url = "http://" + url;
    return std::make_unique<HttpAdapter>(url, options);
  }
  if (spec == "manual") return std::make_unique<ManualAdapter>(options);
  throw InvalidArgument("adapter: unknown adapter '" + spec + "' (" + forms + ")");
}

}  // namespace tsunagu::campaign
