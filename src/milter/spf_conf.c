/*
 * spf_conf.c - the SPFCheck, SPFRelayAddress, Resolver, OriginStamp and
 * OriginKeyFile keys: parsing, the checks that need several of them, and
 * loading the stamp keys (the milter refuses to start with a key file
 * others can read).
 */
#include "spf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "spf_resolver.h"
#include "util.h"

static const char *const mode_names[] = { "off", "log", "header", "reject", NULL };

static struct spf_conf *
sc_of(void *obj)
{
	struct mconf *c = obj;

	if (c->spf == NULL)
		c->spf = xcalloc(1, sizeof(*c->spf));
	return c->spf;
}

int
spf_conf_parse_check(void *obj, const char *v, char *err, size_t errlen)
{
	int i;

	for (i = 0; mode_names[i] != NULL; i++)
		if (strcasecmp(v, mode_names[i]) == 0) {
			sc_of(obj)->mode = i;
			return 0;
		}
	return pc_err(err, errlen, "\"%s\" is not one of off, log, header, "
	    "reject", v);
}

int
spf_conf_parse_relay(void *obj, const char *v, char *err, size_t errlen)
{
	struct spf_conf *sc = sc_of(obj);
	char *copy = xstrdup(v), *save = NULL, *tok, why[256];
	struct pc_addr a;
	int rc = 0;

	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (pc_addr_parse(tok, &a, why, sizeof(why)) < 0) {
			rc = pc_err(err, errlen, "\"%s\" is not a host address: "
			    "%s", tok, why);
			break;
		}
		if (sc->nrelays == SPF_RELAYS_MAX) {
			rc = pc_err(err, errlen, "more than %d relay addresses",
			    SPF_RELAYS_MAX);
			break;
		}
		sc->relays[sc->nrelays++] = a;
	}
	free(copy);
	return rc;
}

int
spf_conf_parse_resolver(void *obj, const char *v, char *err, size_t errlen)
{
	struct spf_conf *sc = sc_of(obj);

	if (spf_dns_resolver_parse(v, &sc->ns, &sc->nslen, err, errlen) < 0)
		return -1;
	free(sc->resolver);
	sc->resolver = xstrdup(v);
	return 0;
}

int
spf_conf_parse_stamp(void *obj, const char *v, char *err, size_t errlen)
{
	if (pc_bool_parse(v, &sc_of(obj)->origin_stamp) < 0)
		return pc_err(err, errlen, "\"%s\" is not yes or no", v);
	return 0;
}

int
spf_conf_parse_keyfile(void *obj, const char *v, char *err, size_t errlen)
{
	struct spf_conf *sc = sc_of(obj);

	(void)err; (void)errlen;
	free(sc->key_file);
	sc->key_file = xstrdup(v);
	return 0;
}

void
spf_conf_free(void *obj)
{
	struct mconf *c = obj;

	if (c->spf == NULL)
		return;
	free(c->spf->resolver);
	free(c->spf->key_file);
	stamp_keyring_free(&c->spf->keys);
	free(c->spf);
	c->spf = NULL;
}

int
spf_conf_finish(struct mconf *c, const char *where, char *err, size_t errlen)
{
	struct spf_conf *sc = sc_of(c);
	char addr[PC_ADDR_STRLEN], why[1024];
	size_t i;

	if (sc->mode != SPF_OFF && sc->nrelays == 0)
		return pc_err(err, errlen, "%s: SPFCheck %s needs SPFRelayAddress",
		    where, mode_names[sc->mode]);
	sc->relay_key[0] = '\0';
	for (i = 0; i < sc->nrelays; i++) {
		pc_addr_format(&sc->relays[i], addr, sizeof(addr));
		pc_strlcat(sc->relay_key, addr, sizeof(sc->relay_key));
		pc_strlcat(sc->relay_key, ",", sizeof(sc->relay_key));
	}
	if (sc->resolver == NULL && sc->mode != SPF_OFF &&
	    spf_dns_resolver_parse(NULL, &sc->ns, &sc->nslen, why,
	    sizeof(why)) < 0)
		return pc_err(err, errlen, "%s: Resolver: %s", where, why);
	if (sc->origin_stamp && sc->key_file == NULL)
		return pc_err(err, errlen, "%s: OriginStamp yes needs "
		    "OriginKeyFile", where);
	if (sc->origin_stamp && stamp_keyring_load(sc->key_file, 1, &sc->keys,
	    why, sizeof(why)) < 0)
		return pc_err(err, errlen, "%s: OriginKeyFile: %s", where, why);
	return 0;
}
