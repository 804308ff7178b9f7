/*
 * The web UI's files, served from CABINET_WEB_ROOT: regular files only, never
 * outside the root (symbolic links included), no directory listings, no CGI
 * or server-side includes (CivetWeb's own file serving is switched off).
 * Thread-safe.
 */
#ifndef CABINET_STATIC_H
#define CABINET_STATIC_H

#include "domain/outcome.h"
#include "domain/strbuf.h"

/* A file's ETag: W/"<size>-<mtime in ns>", both in hex. */
#define STATIC_ETAG_LEN 48

/* Resolves the URL path under root and reads the file: its bytes into body,
 * its media type into *type, its ETag (from its size and modification
 * time) into etag. ERR_NOT_FOUND for anything that is not a regular file
 * inside root. "/" is index.html. */
enum outcome static_load(const char *root, const char *path, struct strbuf *body, const char **type,
                         char etag[STATIC_ETAG_LEN]);

/* Whether root is a directory with an index.html: OK, or ERR_INVALID
 * after logging one line that says what to set. For start-up. */
enum outcome static_check_root(const char *root);

#endif
