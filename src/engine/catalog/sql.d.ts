// esbuild's text loader turns `.sql` files into their text (esbuild.mjs: loader '.sql': 'text').
declare module '*.sql' {
  const text: string;
  export default text;
}
