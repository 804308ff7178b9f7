/*
 * The server's Ed25519 key, which signs audit checkpoints: a 32-byte seed in
 * padded base64 in CABINET_SERVER_KEY_FILE (mode 0600), made on first start.
 * Called once at start-up; not thread-safe.
 */
#ifndef CABINET_SEC_KEY_H
#define CABINET_SEC_KEY_H

#include "domain/outcome.h"
#include "sec/sec.h"

/* Reads the seed in path, or writes a new one there if the file does not
 * exist, and derives the key pair. ERR_INVALID for a file that holds no
 * seed, ERR_INTERNAL when it cannot be read or written. */
enum outcome sec_key_load(const char *path, char public_b64[SEC_ED_PUBLIC_B64],
                          char secret_b64[SEC_ED_SECRET_B64]);

/* Whether sec_key_load may go ahead with path: OK when the file can be read,
 * or does not exist in a folder that does (then a new key will be made);
 * otherwise, after logging one line on what is wrong (a directory, no read
 * permission, a missing folder), ERR_INVALID. Warns when others than the
 * owner may read the file. Writes nothing. */
enum outcome sec_key_check(const char *path);

/* Writes a secret key (base64) to a new file of mode 0600; ERR_CONFLICT when
 * the file exists. */
enum outcome sec_key_write(const char *path, const char *b64);
/* Reads the first line of a key file into buf. */
enum outcome sec_key_read(const char *path, char *buf, size_t size);

#endif
