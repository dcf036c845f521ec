export * from './api';
export * from './hooks';
export * from './components';
