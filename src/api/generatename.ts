/**
 * Generated object names, as Kubernetes makes them for `metadata.generateName`
 * (k8s.io/apiserver/pkg/storage/names.SimpleNameGenerator over k8s.io/apimachinery/pkg/util/rand):
 * the prefix, cut so the result fits in 63 characters, plus 5 random characters from an alphabet
 * without vowels or look-alike characters. The API server uses it for generateName; controllers use
 * it where they choose the name themselves (ReplicaSet Pods, EndpointSlices).
 */
import { randomInt } from 'node:crypto';

/** Consonants and digits that cannot spell words or be confused (rand.alphanums). */
export const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Length of the random suffix. */
const RANDOM_LENGTH = 5;
/** A generated name stays within a DNS label: 63 characters. */
const MAX_GENERATED_NAME_LENGTH = 63 - RANDOM_LENGTH;

/** `n` random characters from SAFE_ALPHABET. */
export function randomSuffix(n = RANDOM_LENGTH): string {
  let s = '';
  for (let i = 0; i < n; i++) s += SAFE_ALPHABET[randomInt(SAFE_ALPHABET.length)];
  return s;
}

/** `prefix` (cut to 58 characters) + 5 random characters. */
export function generateName(prefix: string): string {
  return (prefix.length > MAX_GENERATED_NAME_LENGTH ? prefix.slice(0, MAX_GENERATED_NAME_LENGTH) : prefix) + randomSuffix();
}
