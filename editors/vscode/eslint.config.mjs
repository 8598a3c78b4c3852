import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "*.mjs", "test/record-initialize.js"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-floating-promises": "off",
      eqeqeq: "error",
      curly: "error",
    },
  },
);
