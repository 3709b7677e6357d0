/* SPDX-License-Identifier: MIT */
/* hash.h: a keyed hash (SipHash-1-3) for tables whose keys come off the wire. */
#ifndef OPE_HASH_H
#define OPE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-1-3 of DATA (LEN bytes) under the 16-byte KEY. With a random KEY
 * an attacker who picks the keys cannot aim them at one bucket. */
uint64_t hash_sip(const uint8_t key[16], const void *data, size_t len);

/* SipHash-2-4-128 of DATA under KEY into OUT: the full-strength variant
 * with a 128-bit tag, for use as a MAC (a tag nobody can forge or predict
 * without KEY). */
void hash_sip_mac(const uint8_t key[16], const void *data, size_t len,
		  uint8_t out[16]);

/* Fill KEY (16 bytes) from getrandom(); falls back to time and pid when no
 * entropy is available yet (early boot), which still differs per process. */
void hash_random_key(uint8_t key[16]);

#endif
