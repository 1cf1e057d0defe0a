import { Testing } from "cdktf";
// Brings the matcher typings (jest.Matchers augmentation) into the program.
import "cdktf/lib/testing/adapters/jest";

// Registers toHaveResource, toHaveResourceWithProperties, toBeValidTerraform, ...
Testing.setupJest();
