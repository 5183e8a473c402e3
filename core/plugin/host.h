/* The host table the core hands each plugin (struct sl_host). */
#ifndef SLI_HOST_H
#define SLI_HOST_H

#include <sluice/plugin.h>

/* Fill *h for the plugin called name (the string must outlive h). */
void sli_host_init(struct sl_host *h, const char *name);

/* Value of a counter plugins add to through counter_add; 0 if unknown. */
int64_t sli_counter_get(const char *name);

#endif
