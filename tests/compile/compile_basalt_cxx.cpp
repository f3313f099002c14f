// SPDX-License-Identifier: Apache-2.0
// basalt.h compiles alone, first, as C++ (extern "C", no C-only syntax).
#include <basalt.h>

int main()
{
	struct basalt_stat st = {};
	basalt_completion_fn *cb = 0;
	basalt_extent_fn *ext = 0;

	(void)st;
	(void)cb;
	(void)ext;
	return BASALT_API_VERSION == 1 ? 0 : 1;
}
