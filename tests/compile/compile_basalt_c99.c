/* SPDX-License-Identifier: Apache-2.0 */
/* basalt.h compiles alone, first, as strict C99 (see client/lib). */
#include <basalt.h>

#if BASALT_API_VERSION < 1
#error "BASALT_API_VERSION missing"
#endif

static basalt_completion_fn *const cb_type_check = 0;
static basalt_extent_fn *const ext_type_check = 0;

int main(void)
{
	struct basalt_stat st;

	st.size = 0;
	(void)cb_type_check;
	(void)ext_type_check;
	(void)st;
	return 0;
}
