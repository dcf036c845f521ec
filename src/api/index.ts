export * from './schemas';
export * from './errors';
export * from './client';
export * from './events';
export * from './messages';
export * from './queryOptions';
