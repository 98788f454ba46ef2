// `tollgate audit export --format ocsf`: each record projected onto an OCSF event class
// (schema 1.5.0), so that a SIEM reads tollgate's log with the same queries as its other
// sources. The mapping table is in docs/AUDIT.md; whatever a class has no attribute for goes
// into `unmapped`, so the projection loses nothing of the record.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "supervisor/audit/reader.h"

namespace tollgate::audit {

inline constexpr const char* kOcsfVersion = "1.5.0";

struct OcsfClass {
  int class_uid = 0;
  const char* class_name = "Base Event";
  int category_uid = 0;
  const char* category_name = "Uncategorized";
};
// The OCSF class a record kind maps to (Base Event for a kind this version does not know).
OcsfClass OcsfClassOf(const std::string& kind);

class OcsfExporter {
 public:
  explicit OcsfExporter(std::string product_version)
      : product_version_(std::move(product_version)) {}

  // The OCSF event of one record. Records are expected in log order: the host of a run's
  // run.start record becomes the `device` of the run's later events.
  Json Project(const ParsedRecord& record);
  // Notes what later events need from a record that is not exported itself (filtered out).
  void Observe(const ParsedRecord& record);

 private:
  std::string product_version_;
  std::map<std::string, std::string> host_of_run_;  // bounded: see kMaxRunsRemembered
};

inline constexpr std::size_t kMaxRunsRemembered = 4096;

}  // namespace tollgate::audit
