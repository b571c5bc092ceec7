/* auth_types: names of the shared result words. */
#include <strings.h>

#include "auth_types.h"

const char *auth_spf_name(enum auth_spf r)
{
	switch (r) {
	case AUTH_SPF_NONE: return "none";
	case AUTH_SPF_NEUTRAL: return "neutral";
	case AUTH_SPF_PASS: return "pass";
	case AUTH_SPF_FAIL: return "fail";
	case AUTH_SPF_SOFTFAIL: return "softfail";
	case AUTH_SPF_TEMPERROR: return "temperror";
	case AUTH_SPF_PERMERROR: return "permerror";
	}
	return "unknown";
}

const char *auth_dkim_name(enum auth_dkim r)
{
	switch (r) {
	case AUTH_DKIM_NONE: return "none";
	case AUTH_DKIM_PASS: return "pass";
	case AUTH_DKIM_FAIL: return "fail";
	case AUTH_DKIM_NEUTRAL: return "neutral";
	case AUTH_DKIM_POLICY: return "policy";
	case AUTH_DKIM_TEMPERROR: return "temperror";
	case AUTH_DKIM_PERMERROR: return "permerror";
	}
	return "unknown";
}

const char *auth_dmarc_name(enum auth_dmarc r)
{
	switch (r) {
	case AUTH_DMARC_NONE: return "none";
	case AUTH_DMARC_PASS: return "pass";
	case AUTH_DMARC_FAIL: return "fail";
	case AUTH_DMARC_TEMPERROR: return "temperror";
	case AUTH_DMARC_PERMERROR: return "permerror";
	}
	return "unknown";
}

const char *dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_UNSPECIFIED: return "unspecified";
	case DMARC_POLICY_NONE: return "none";
	case DMARC_POLICY_QUARANTINE: return "quarantine";
	case DMARC_POLICY_REJECT: return "reject";
	}
	return "unknown";
}

bool dmarc_policy_parse(const char *s, enum dmarc_policy *out)
{
	if (strcasecmp(s, "none") == 0)
		*out = DMARC_POLICY_NONE;
	else if (strcasecmp(s, "quarantine") == 0)
		*out = DMARC_POLICY_QUARANTINE;
	else if (strcasecmp(s, "reject") == 0)
		*out = DMARC_POLICY_REJECT;
	else
		return false;
	return true;
}
