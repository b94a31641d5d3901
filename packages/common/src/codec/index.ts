/** The value codec every rayts value (task arguments, return values, put objects) goes through. */
export {
  DEFAULT_OUT_OF_BAND_THRESHOLD,
  type DecodeOptions,
  type EncodeOptions,
  type Encoded,
} from './types.js';
export { encodeValue, decodeValue } from './value.js';
export {
  ENCODED_HEADER_SIZE,
  ENCODED_MAGIC,
  ENCODED_VERSION,
  SECTION_ALIGNMENT,
  decodeFromBuffer,
  encodeToBuffer,
  encodedSize,
  readEncoded,
  headLength,
  readHead,
  decodeHeadAndSections,
  encodedPieces,
  readLayout,
  readRefs,
  writeEncoded,
  type EncodedLayout,
} from './layout.js';
