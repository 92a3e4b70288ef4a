// The rule a profile's lan1 gateway follows, shared with `network set --gateway`; no imports, so
// that commands can check it without loading the profile machinery (YAML, JSON Schema).

function ipv4(address: string): number {
  return address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0)
}

/** An IPv4 address in the subnet of an IPv4 CIDR. */
export function sameSubnet(cidr: string, address: string): boolean {
  const [network, bits] = cidr.split('/')
  const prefix = Number(bits)
  if (prefix === 0) return true
  const size = 2 ** (32 - prefix)
  return Math.floor(ipv4(network!) / size) === Math.floor(ipv4(address) / size)
}
