// The `rayts` package: the public API lives in @rayts/api (bundled with this package).
export * from '@rayts/api';
