// Written into every model file's metadata; keep in step with package.json "version".
export const LIBRARY_VERSION = '0.1.0';
export const MODEL_FORMAT = 'hemaclust-model/1';
