/* SPDX-License-Identifier: MIT */
/* main.c: ope-component, the XEP-0114 daemon (being written). */
int main(void)
{
	return 0;
}
