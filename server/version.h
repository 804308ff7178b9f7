/* The version this build reports (GET /config, `cabinet --version`). */
#ifndef CABINET_VERSION_H
#define CABINET_VERSION_H

#ifndef CABINET_VERSION
#define CABINET_VERSION "0.1.0"
#endif

#endif
