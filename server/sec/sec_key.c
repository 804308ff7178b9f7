#include "sec/sec_key.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

enum outcome
sec_key_write(const char *path, const char *b64)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    size_t n = strlen(b64);
    bool ok;

    if (fd < 0)
        return errno == EEXIST ? ERR_CONFLICT : ERR_INTERNAL;
    ok = write(fd, b64, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    if (close(fd) != 0)
        ok = false;
    return ok ? OK : ERR_INTERNAL;
}

enum outcome
sec_key_read(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    bool ok;

    if (f == NULL)
        return errno == ENOENT ? ERR_NOT_FOUND : ERR_INTERNAL;
    ok = fgets(buf, (int)size, f) != NULL;
    (void)fclose(f); /* only read from */
    if (!ok)
        return ERR_INVALID;
    buf[strcspn(buf, "\r\n")] = '\0';
    return OK;
}

enum outcome
sec_key_check(const char *path)
{
    struct stat st;
    char *copy = NULL;
    enum outcome rc = ERR_INVALID;
    int fd;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        log_error("the server key file %s (CABINET_SERVER_KEY_FILE) is a directory: point "
                  "CABINET_SERVER_KEY_FILE at the key file inside it",
                  path);
    } else if (stat(path, &st) == 0) {
        /* the seed is the only thing that can sign this installation's
         * checkpoints: a copy anyone can read is a copy anyone can forge with */
        if ((st.st_mode & 077) != 0)
            log_warn("the server key file %s can be read by others than its owner (mode %04o): "
                     "run chmod 600 %s",
                     path, (unsigned)(st.st_mode & 07777), path);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
            log_error("the server key file %s (CABINET_SERVER_KEY_FILE) cannot be read: %s; "
                      "give this user read access to it (no new key is made in its place)",
                      path, strerror(errno));
        else
            rc = close(fd) == 0 ? OK : ERR_INTERNAL;
    } else if (errno != ENOENT) {
        log_error("the server key file %s (CABINET_SERVER_KEY_FILE) cannot be reached: %s; fix "
                  "the path or its folders' permissions (no new key is made in its place)",
                  path, strerror(errno));
    } else if ((copy = strdup(path)) == NULL) {
        rc = ERR_INTERNAL;
    } else if (stat(dirname(copy), &st) != 0 || !S_ISDIR(st.st_mode)) {
        /* a folder that is not there is more likely a mistyped path or an
         * unmounted volume than a first start: a key made elsewhere would
         * not be the installation's */
        log_error("the folder of the server key file %s (CABINET_SERVER_KEY_FILE) does not "
                  "exist: create it, or point CABINET_SERVER_KEY_FILE at the existing key file",
                  path);
    } else {
        rc = OK; /* the first start: sec_key_load makes the key */
    }
    free(copy);
    return rc;
}

enum outcome
sec_key_load(const char *path, char public_b64[SEC_ED_PUBLIC_B64],
             char secret_b64[SEC_ED_SECRET_B64])
{
    char seed[128];
    enum outcome rc;

    rc = sec_key_read(path, seed, sizeof seed);
    if (rc == ERR_NOT_FOUND) {
        sec_ed25519_seed(seed);
        if ((rc = sec_key_write(path, seed)) == ERR_CONFLICT) /* made meanwhile */
            rc = sec_key_read(path, seed, sizeof seed);
        else if (rc == OK)
            log_info("made a new server key in %s", path);
    }
    if (rc == OK)
        rc = sec_ed25519_from_seed(seed, public_b64, secret_b64);
    if (rc != OK)
        log_error("the server key file %s cannot be used (it must hold a base64 32-byte seed)",
                  path);
    sec_wipe(seed, sizeof seed);
    return rc;
}
