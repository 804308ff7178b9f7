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

/* Resolves the URL path under root and reads the file: its bytes into body,
 * its media type into *type. ERR_NOT_FOUND for anything that is not a
 * regular file inside root. "/" is index.html. */
enum outcome static_load(const char *root, const char *path, struct strbuf *body,
                         const char **type);

#endif
