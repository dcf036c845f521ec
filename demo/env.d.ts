// Stylesheets are imported for their side effect and handled by Vite.
declare module '*.css';
