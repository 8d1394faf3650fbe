#ifndef PERFBOT_MAXMINDDB_SHIM_H
#define PERFBOT_MAXMINDDB_SHIM_H

#include <maxminddb.h>
#include <string.h>

/// Opens a MaxMind-format database (memory-mapped); MMDB_SUCCESS or an error code.
static inline int perfbot_mmdb_open(const char *path, MMDB_s *db) {
    return MMDB_open(path, MMDB_MODE_MMAP, db);
}

/// The ISO 3166-1 alpha-2 code of `ip`'s country (`country.iso_code`, else `registered_country.iso_code`) in
/// `out` (3 bytes, NUL-terminated): 1 when found, 0 when the address is not in the database or not an address.
static inline int perfbot_mmdb_country(const MMDB_s *db, const char *ip, char out[3]) {
    int gai_error = 0, mmdb_error = 0;
    MMDB_lookup_result_s result = MMDB_lookup_string(db, ip, &gai_error, &mmdb_error);
    if (gai_error != 0 || mmdb_error != MMDB_SUCCESS || !result.found_entry) return 0;
    MMDB_entry_data_s data;
    int status = MMDB_get_value(&result.entry, &data, "country", "iso_code", NULL);
    if (status != MMDB_SUCCESS || !data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING) {
        status = MMDB_get_value(&result.entry, &data, "registered_country", "iso_code", NULL);
        if (status != MMDB_SUCCESS || !data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING) return 0;
    }
    if (data.data_size != 2) return 0;
    memcpy(out, data.utf8_string, 2);
    out[2] = 0;
    return 1;
}

#endif
