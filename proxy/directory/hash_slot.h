#pragma once
// Redis Cluster's key → hash slot function (the cluster specification, "Keys
// distribution model"): CRC16 (XMODEM: polynomial 0x1021, initial value 0,
// no reflection) of the key, modulo 16384. When the key holds a hash tag —
// the bytes between the first '{' and the first '}' after it, if there is
// at least one byte between them — only the tag is hashed, so that keys with
// the same tag share a slot.

#include <cstdint>
#include <string_view>

namespace regiongate {

inline constexpr int kClusterSlots = 16384;

// CRC16-XMODEM of `data` ("123456789" → 0x31C3).
std::uint16_t crc16_xmodem(std::string_view data);

// The part of `key` that is hashed: its hash tag, or the whole key.
std::string_view hashed_part(std::string_view key);

// 0..16383.
int key_hash_slot(std::string_view key);

}  // namespace regiongate
