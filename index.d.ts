export * from '@rayts/api';
