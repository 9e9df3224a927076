// The emulators live in local/ (the local cloud starts them too); tests import them from here or there.
export * from '../../local/emulators';
