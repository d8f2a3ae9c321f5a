export declare const KERNEL_DIRS: string[];
export declare function wasmModuleText(watPath: string): Promise<string>;
export declare function targetOf(watPath: string): string;
export declare function watSources(root?: string): string[];
