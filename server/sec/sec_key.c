#include "sec/sec_key.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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
